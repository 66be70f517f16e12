"""Find and read the source articles in docs_src/.

A source is a `.txt` or `.md` file. Its metadata lives beside it in
`<name>.meta.toml` (title, publication, date, script, layout — all optional;
without a title, the first line of the text is used). Offsets everywhere in
cqqa are character positions in the text as decoded here: UTF-8, a leading
byte-order mark removed, line endings left as they are.

Empty and binary files, files over the size limit (CQQA_MAX_SOURCE_MB) and symbolic
links that point out of the source folder (unless CQQA_FOLLOW_SYMLINKS=1) are skipped
with a warning naming them. Two files that would be the same article (`twin.txt` and
`twin.md`: ids drop the suffix) stop the build with a message naming both. A file that is not UTF-8 is
tried as GB18030 (which covers GBK and GB2312) and as Big5; the decoding whose
text reads as Chinese (the share of its characters that fall in jieba
dictionary words, after Traditional-to-Simplified folding) is used, with a
warning naming the encoding. A file that reads as neither stops the build with
a message naming it and saying how to convert it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import SourceError


class SkippedSource(SourceError):
    """A file that is left out of the index with a warning (binary, empty, too big, a link out)."""

SOURCE_SUFFIXES = (".txt", ".md")
META_SUFFIX = ".meta.toml"
KNOWN_META = {"title", "title_en", "publication", "publication_en", "date", "event_date", "script",
              "layout", "original_file", "notes", "url"}


@dataclass
class Document:
    doc_id: str  # path under the source folder, without suffix, with "/" separators
    path: Path
    text: str
    sha256: str  # of the file's bytes
    meta: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.meta.get("title"):
            return str(self.meta["title"])
        first = FIRST_LINE.search(self.text)  # not splitlines(): that copies the whole text, per call
        return first.group().strip()[:80] if first else self.doc_id

    @property
    def fingerprint(self) -> str:
        """What the index must be rebuilt for: the file's bytes and its sidecar's metadata."""
        return document_fingerprint(self.sha256, self.meta)

    @property
    def layout(self) -> str:
        return str(self.meta.get("layout") or "auto")


FIRST_LINE = re.compile(r"\S[^\r\n]*")


def document_fingerprint(sha256: str, meta: dict) -> str:
    canonical = json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)
    return f"{sha256}+{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


def meta_path(path: Path) -> Path:
    return path.with_name(path.stem + META_SUFFIX)


def doc_id_of(path: Path, source_dir: Path) -> str:
    return path.relative_to(source_dir).with_suffix("").as_posix()


def discover(source_dir: Path, follow_symlinks: bool = False, warn=lambda message: None) -> list[Path]:
    """Source files under source_dir, sorted; hidden files and folders are ignored, and so (with a
    warning) are symbolic links whose target lies outside source_dir, unless follow_symlinks."""
    if not source_dir.is_dir():
        raise SourceError(f"source folder {source_dir} does not exist; create it and put .txt or .md articles in it")
    root = source_dir.resolve()
    found, ids = [], {}
    for path in sorted(source_dir.rglob("*")):
        rel = path.relative_to(source_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not (path.suffix.lower() in SOURCE_SUFFIXES and path.is_file()):
            continue
        target = path.resolve()
        if not follow_symlinks and not target.is_relative_to(root):
            warn(f"skipped: {path} is a symbolic link to {target}, outside {source_dir}; "
                 "set CQQA_FOLLOW_SYMLINKS=1 to index files outside the source folder")
            continue
        doc_id = doc_id_of(path, source_dir)
        if doc_id in ids:
            raise SourceError(f"{ids[doc_id]} and {path} would both be the article {doc_id!r} (an article's id is "
                              "its path without the suffix); rename one of them")
        ids[doc_id] = path
        found.append(path)
    return found


def read_meta(path: Path) -> dict:
    sidecar = meta_path(path)
    if not sidecar.exists():
        return {}
    try:
        meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"{sidecar}: invalid metadata ({exc}); fix the TOML or delete the file") from exc
    unknown = set(meta) - KNOWN_META
    if unknown:
        raise SourceError(f"{sidecar}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_META))}")
    if meta.get("layout", "auto") not in ("auto", "lines", "wrapped"):
        raise SourceError(f"{sidecar}: layout must be auto, lines or wrapped, not {meta['layout']!r}")
    return meta


LEGACY_ENCODINGS = ("gb18030", "big5")
MIN_CHINESE_SCORE = 0.5  # share of Han characters inside dictionary words for a decoding to count


def chinese_score(text: str) -> float:
    """How much `text` reads as Chinese: the share of its Han characters that are part of a
    multi-character jieba dictionary word. Text decoded with the wrong codec scores near 0."""
    from cqqa.textnorm import jieba, to_simplified

    sample = to_simplified(text[:20000])
    han = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    if not han:
        return 0.0
    words = jieba().dt.FREQ
    in_words = sum(len(w) for w in jieba().cut(sample, HMM=False) if len(w) > 1 and words.get(w))
    return in_words / han


def decode(raw: bytes, path: Path, warn=lambda message: None) -> str:
    if b"\x00" in raw[:8192]:
        raise SkippedSource(f"{path} looks binary (it contains NUL bytes); only .txt/.md text articles can be indexed")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc.start
    scored = []
    for encoding in LEGACY_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((chinese_score(text), encoding, text))
    if scored:
        score, encoding, text = max(scored)
        if score >= MIN_CHINESE_SCORE:
            warn(f"{path} is not UTF-8; read it as {encoding.upper()} (convert it with "
                 f"`iconv -f {encoding.upper()} -t UTF-8` to silence this)")
            return text
    raise SourceError(
        f"{path} is not UTF-8 (bad byte at position {bad}) and does not read as GB18030 or Big5 Chinese; "
        f"convert it to UTF-8, e.g. `iconv -f GB18030 -t UTF-8` (Simplified) or `iconv -f BIG5 -t UTF-8` (Traditional)"
    )


def read_document(path: Path, source_dir: Path, warn=lambda message: None, max_bytes: int | None = None) -> Document:
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise SkippedSource(f"{path} is {size / 2**20:.1f} MB, over the limit of {max_bytes / 2**20:.0f} MB "
                                "for one article; split it, or raise CQQA_MAX_SOURCE_MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    text = decode(raw, path, warn)
    if not text.strip():
        raise SkippedSource(f"{path} is empty")
    return Document(doc_id_of(path, source_dir), path, text, hashlib.sha256(raw).hexdigest(), read_meta(path))


def load_documents(source_dir: Path, warn=lambda message: None, *, max_mb: float | None = None,
                   follow_symlinks: bool = False) -> list[Document]:
    """Every readable source under source_dir; the ones skipped are named in a warning."""
    max_bytes = int(max_mb * 2**20) if max_mb else None
    docs = []
    for path in discover(source_dir, follow_symlinks, warn):
        try:
            docs.append(read_document(path, source_dir, warn, max_bytes))
        except SkippedSource as exc:
            warn(f"skipped: {exc}")
    return docs


def load_sources(settings, warn=lambda message: None) -> list[Document]:
    """load_documents with the limits from Settings (size limit, symlinks)."""
    return load_documents(settings.source_dir, warn, max_mb=settings.max_source_mb,
                          follow_symlinks=settings.follow_symlinks)
