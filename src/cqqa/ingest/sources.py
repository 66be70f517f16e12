"""Find and read the source articles in docs_src/.

A source is a file of one of the formats in `ingest/formats/` (text and Markdown, HTML, PDF,
DOCX), checked by content as well as by name. Its metadata lives beside it in
`<name>.meta.toml` (title, publication, date, script, layout — all optional, and overriding
what the file itself says; without a title, the first line of the text is used). Offsets
everywhere in cqqa are character positions in the text as extracted here (for text files: as
decoded, line endings left as they are), which the index keeps in documents.jsonl.

Empty and binary files, files over the size limit (CQQA_MAX_SOURCE_MB) and symbolic
links that point out of the source folder (unless CQQA_FOLLOW_SYMLINKS=1) are skipped
with a warning naming them. Two files that would be the same article (`twin.txt` and
`twin.md`: ids drop the suffix) stop the build with a message naming both. Decoding of text
that is not UTF-8: `formats/text.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import SourceError
from cqqa.ingest.formats import SUFFIXES, SkippedSource, format_for, identify, page_at


SOURCE_SUFFIXES = SUFFIXES
META_SUFFIX = ".meta.toml"
KNOWN_META = {"title", "author", "title_en", "publication", "publication_en", "date", "event_date", "script",
              "layout", "original_file", "notes", "url"}


@dataclass
class Document:
    doc_id: str  # path under the source folder, without suffix, with "/" separators
    path: Path
    text: str
    sha256: str  # of the file's bytes
    meta: dict = field(default_factory=dict)  # the file's own (HTML, PDF, DOCX), overridden by its sidecar

    @property
    def paged(self) -> bool:
        """Whether the text has pages (a PDF's extractor says how many in meta["pages"])."""
        return bool(self.meta.get("pages"))

    def page_of(self, offset: int) -> int:
        """The page of the character at `offset` (1-based); 0 when the document has no pages."""
        return page_at(self.text, offset) if self.paged else 0

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
        raise SourceError(f"source folder {source_dir} does not exist; create it and put articles in it ({' '.join(SUFFIXES)})")
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


def read_document(path: Path, source_dir: Path, warn=lambda message: None, max_bytes: int | None = None) -> Document:
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise SkippedSource(f"{path} is {size / 2**20:.1f} MB, over the limit of {max_bytes / 2**20:.0f} MB "
                                "for one article; split it, or raise CQQA_MAX_SOURCE_MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    sha256 = hashlib.sha256(raw).hexdigest()
    extracted = extract_once(raw, sha256, path, warn)
    meta = {**extracted.meta, **read_meta(path)}
    return Document(doc_id_of(path, source_dir), path, extracted.text, sha256, meta)


EXTRACTED_KEPT = 256  # files whose extraction this process keeps (a rebuild after one upload re-reads them all)
_extracted: OrderedDict = OrderedDict()


def extract_once(raw: bytes, sha256: str, path: Path, warn=lambda message: None):
    """extract(), remembered by the file's path and checksum (with its warnings, said again): a
    PDF is parsed once per process, not on every rebuild and staleness check; and, for the formats
    that are slow to read (HTML, PDF, DOCX), once per content and extractor version on this
    machine, in $CQQA_CACHE_DIR/extracted/ (a new `cqqa index` or `cqqa serve` reads it from there)."""
    key = (str(path), sha256)
    if key in _extracted:
        _extracted.move_to_end(key)
        extracted, warnings = _extracted[key]
    else:
        extracted, warnings = _stored_extraction(raw, sha256, path)
        _extracted[key] = (extracted, warnings)
        while len(_extracted) > EXTRACTED_KEPT:
            _extracted.popitem(last=False)
    for message in warnings:
        warn(message)
    return extracted


def _stored_extraction(raw: bytes, sha256: str, path: Path):
    from cqqa.config import cache_dir
    from cqqa.ingest.formats import Extracted

    fmt = format_for(path)
    if fmt is None or fmt.priority == 0:  # text: decoding it is as fast as reading a stored copy
        warnings: list[str] = []
        return extract(raw, path, warnings.append), warnings
    stored = cache_dir() / "extracted" / f"{fmt.name}-{fmt.tag()}-{sha256}.json"
    try:
        data = json.loads(stored.read_text(encoding="utf-8"))
        return Extracted(data["text"], data["meta"]), [w.replace("{path}", str(path)) for w in data["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    warnings = []
    extracted = extract(raw, path, warnings.append)
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_name(f".{stored.name}.{os.getpid()}")
        partial.write_text(json.dumps({"text": extracted.text, "meta": extracted.meta, "warnings": [
            w.replace(str(path), "{path}") for w in warnings]}, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, stored)
    except OSError:  # a read-only cache folder: extract again next time
        pass
    return extracted, warnings


def extract(raw: bytes, path: Path, warn=lambda message: None):
    """The text of a source file's bytes, by the format its name asks for, after checking that
    its content is of that format (a PDF renamed .txt is refused, not read as text)."""
    fmt, actual = format_for(path), identify(raw)
    if fmt is None:
        raise SkippedSource(f"{path}: {path.suffix or 'files without a suffix'} is not a source format; "
                            f"cqqa reads {', '.join(SUFFIXES)}")
    markup_as_text = fmt.priority == 0 and actual is not None and actual.priority == 1  # HTML in a .md is text
    if actual is not fmt and not markup_as_text:
        if why := fmt.why_not(raw):
            raise SkippedSource(f"{path} {why}")
        if actual is None:
            raise SkippedSource(f"{path} looks binary and is none of the formats cqqa reads ({', '.join(SUFFIXES)})")
        raise SkippedSource(f"{path} is named like {fmt.label} but its content is {actual.label}; rename it to "
                            f"{actual.suffixes[0]} (or replace it with the right file)")
    extracted = fmt.extract(raw, path, warn)
    if not extracted.text.strip():
        raise SkippedSource(f"{path} is empty")
    return extracted


def load_documents(source_dir: Path, warn=lambda message: None, *, max_mb: float | None = None,
                   follow_symlinks: bool = False, progress: bool = False) -> list[Document]:
    """Every readable source under source_dir; the ones skipped are named in a warning.
    `progress`: a bar per file, naming the file being read and, for PDFs, its pages."""
    from tqdm import tqdm

    max_bytes = int(max_mb * 2**20) if max_mb else None
    docs = []
    bar = tqdm(discover(source_dir, follow_symlinks, warn), desc="reading", unit="file", disable=not progress,
               leave=False)
    for path in bar:
        bar.set_postfix_str(path.name[-40:])
        try:
            docs.append(read_document(path, source_dir, warn, max_bytes))
        except SkippedSource as exc:
            warn(f"skipped: {exc}")
            continue
        if docs[-1].paged:
            bar.set_postfix_str(f"{path.name[-40:]}: {docs[-1].meta['pages']} pages")
    return docs


def load_sources(settings, warn=lambda message: None, progress: bool = False) -> list[Document]:
    """load_documents with the limits from Settings (size limit, symlinks)."""
    return load_documents(settings.source_dir, warn, max_mb=settings.max_source_mb,
                          follow_symlinks=settings.follow_symlinks, progress=progress)
