"""Build, save and load the index: chunk table, vectors, FAISS index and manifest.

Layout of the index folder:

    index/
      CURRENT                 name of the version in use (replaced atomically)
      versions/<version>/     one complete build
        manifest.json         model, chunk settings, each document's hash, counts
        chunks.jsonl          the chunk table, one chunk per line
        vectors.npy           normalised float32 vectors, row i = chunk i
        faiss.index           FAISS index over vectors.npy
        sentences.jsonl       every sentence of the chunks, once; sentence_vectors.npy their vectors;
        sentence_owner.npy    (chunk row, sentence row) pairs
        bm25/                 lexical index (bm25s) over the same chunks, same order
        names.json            the name bridge built from this corpus (names.py)
        documents.jsonl       each source's decoded text, so that spans can be shown in context
      .lock                   held while building

A build writes a new version folder, then points CURRENT at it with one atomic
rename: a build interrupted at any moment leaves the previous version in use,
intact. Chunks whose text is unchanged reuse their stored vectors, so
rebuilding after a small change embeds only what changed, and a rebuild with
nothing changed writes nothing at all.

The manifest records the SHA-256 of every other file of its version. A build
checks them before it calls the index up to date: a damaged version (a file
truncated, deleted or edited) is rebuilt, reusing only vectors whose files
still match their checksums, from any kept version. A read-only index folder
can be served and checked; building into it is refused with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock, Timeout
from tqdm import tqdm

from cqqa import __version__
from cqqa.chunking import Chunk, chunk_document, sentences
from cqqa.config import Settings
from cqqa.embedding import ModelIdentity
from cqqa.errors import CqqaError, IndexProblem
from cqqa.lexical import LexicalIndex
from cqqa.names import NameBridge, find_people
from cqqa.sources import Document, document_fingerprint, load_sources

FORMAT = 6  # 6: manifest["files"] (checksums), document fingerprints cover the sidecar
KEEP_VERSIONS = 2
DOCUMENTS = "documents.jsonl"


@dataclass
class Index:
    path: Path  # the version folder
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss: object
    lexical: LexicalIndex
    names: NameBridge
    sentences: "SentenceUnits"
    _texts: dict[str, str] | None = field(default=None, repr=False)
    _rows: dict[str, int] | None = field(default=None, repr=False)

    @property
    def version(self) -> str:
        return self.path.name

    def document_texts(self) -> dict[str, str]:
        """doc id -> the decoded source text the chunk offsets of this version point into."""
        if self._texts is None:
            lines = (self.path / DOCUMENTS).read_text(encoding="utf-8").splitlines()
            self._texts = {row["doc_id"]: row["text"] for row in map(json.loads, lines)}
        return self._texts

    def document_text(self, doc_id: str) -> str:
        texts = self.document_texts()
        if doc_id not in texts:
            raise IndexProblem(f"no article {doc_id!r} in the index version {self.version}")
        return texts[doc_id]

    def document_meta(self, doc_id: str) -> dict:
        entry = next((d for d in self.manifest["documents"] if d["doc_id"] == doc_id), None)
        return dict(entry.get("meta") or {}) | {"title": entry["title"]} if entry else {}

    def row_of(self, chunk_id: str) -> int:
        if self._rows is None:
            self._rows = {chunk.chunk_id: row for row, chunk in enumerate(self.chunks)}
        return self._rows[chunk_id]

    def chunk_sentences(self, row: int) -> list[int]:
        """Rows in the sentence table of chunk `row`'s sentences, in reading order."""
        owner = self.sentences.owner
        return owner[owner[:, 0] == row, 1].tolist()

    @property
    def model(self) -> ModelIdentity:
        return ModelIdentity(**self.manifest["model"])

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self.chunks))
        if k == 0:
            empty = np.zeros((len(query_vectors), 0))
            return empty, empty.astype(np.int64)
        return self.faiss.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)


@dataclass
class BuildReport:
    docs: int
    chunks: int
    embedded_chunks: int
    seconds: float
    version: str
    up_to_date: bool = False
    embedded_sentences: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[dict] = field(default_factory=list)  # {"from": old doc id, "to": new doc id}
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def diff_documents(before: dict[str, str], after: dict[str, str]) -> dict:
    """What changed between two {doc_id: sha256} maps. A document whose content reappears
    under another id is renamed, not removed and added."""
    gone = {doc: sha for doc, sha in before.items() if doc not in after}
    new = {doc: sha for doc, sha in after.items() if doc not in before}
    renamed = []
    for doc, sha in sorted(new.items()):
        match = next((old for old, old_sha in sorted(gone.items()) if old_sha == sha), None)
        if match:
            renamed.append({"from": match, "to": doc})
            del gone[match]
    moved_to = {r["to"] for r in renamed}
    return {
        "added": sorted(d for d in new if d not in moved_to),
        "changed": sorted(d for d in after if d in before and before[d] != after[d]),
        "removed": sorted(gone),
        "renamed": renamed,
        "unchanged": sum(1 for d in after if before.get(d) == after[d]),
    }


def settings_fingerprint(settings: Settings) -> dict:
    """Everything besides the sources that decides the index's content."""
    return {"chunks": asdict(settings.chunks), "faiss_index": settings.faiss_index, "cqqa_format": FORMAT}


# ---------------------------------------------------------------- reading


def current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    path = index_dir / "versions" / pointer.read_text().strip()
    return path if path.is_dir() else None


def read_manifest(index_dir: Path) -> dict | None:
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"the index in {index_dir} is corrupt ({exc}); rebuild it with `cqqa index`") from exc


def load_index(index_dir: Path) -> Index:
    """Load the current version, or say clearly why it cannot be loaded."""
    version = current_version(index_dir)
    if version is None:
        raise IndexProblem(f"no index in {index_dir}; build it with `cqqa index --index {index_dir}`")
    return read_version(version)


def read_version(version: Path) -> Index:
    """Load one version folder (load_index loads the current one)."""
    import faiss

    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"the index in {version} is corrupt ({exc}); rebuild it with `cqqa index`") from exc
    if manifest.get("format") != FORMAT:
        raise IndexProblem(
            f"the index in {version.parent.parent} has format {manifest.get('format')}, this cqqa reads {FORMAT}; "
            "rebuild it with `cqqa index`"
        )
    try:
        chunks = [_chunk(json.loads(line)) for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        vectors = np.load(version / "vectors.npy")
        faiss_index = faiss.read_index(str(version / "faiss.index"))
        lexical = LexicalIndex.load(version / "bm25")
        units = SentenceUnits.load(version)
        names = NameBridge.load(version / "names.json")
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexProblem(f"the index in {version} is corrupt ({exc}); rebuild it with `cqqa index`") from exc
    counts = {len(chunks), len(vectors), faiss_index.ntotal, lexical.size, manifest["chunks"]}
    if len(counts) != 1:
        raise IndexProblem(f"the index in {version} is inconsistent (chunk, vector and lexical counts differ); "
                           "rebuild it with `cqqa index`")
    if len(units.texts) != len(units.vectors) or (len(units.owner) and units.owner[:, 0].max() >= len(chunks)):
        raise IndexProblem(f"the sentence table in {version} is inconsistent; rebuild it with `cqqa index`")
    return Index(version, manifest, chunks, vectors, faiss_index, lexical, names, units)


def staleness(index_dir: Path, settings: Settings, docs: list[Document] | None = None) -> list[str]:
    """Reasons the index does not reflect the sources and settings; empty when current.

    `docs` are the sources already loaded by the caller (else they are read here)."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return [f"no index in {index_dir}"]
    try:
        current = {d.doc_id: d.fingerprint for d in (docs if docs is not None else load_sources(settings))}
    except CqqaError as exc:  # an unreadable source is reported by `cqqa index`
        return _stale_settings(manifest, settings) + [str(exc)]
    return _stale_reasons(manifest, settings, current)


def _built_documents(manifest: dict | None) -> dict[str, str]:
    """doc id -> fingerprint (file bytes and sidecar metadata) of what a manifest was built from."""
    if not manifest:
        return {}
    return {d["doc_id"]: document_fingerprint(d["sha256"], d.get("meta") or {}) for d in manifest["documents"]}


def _stale_settings(manifest: dict, settings: Settings) -> list[str]:
    reasons = []
    if manifest.get("settings") != settings_fingerprint(settings):
        reasons.append("chunking or index settings changed")
    if manifest["model"]["name"] != settings.model:
        reasons.append(f"built with model {manifest['model']['name']}, configured model is {settings.model}")
    return reasons


def _stale_reasons(manifest: dict, settings: Settings, current: dict[str, str]) -> list[str]:
    built = _built_documents(manifest)
    changes = diff_documents(built, current)
    same_bytes = lambda d: built[d].split("+")[0] == current[d].split("+")[0]  # noqa: E731 (fingerprint: sha+meta)
    return (_stale_settings(manifest, settings)
            + [f"new source {d}" for d in changes["added"]]
            + [f"source {d} was removed" for d in changes["removed"]]
            + [f"the metadata (.meta.toml) of {d} changed" if same_bytes(d) else f"source {d} changed"
               for d in changes["changed"]]
            + [f"source {r['from']} was renamed to {r['to']}" for r in changes["renamed"]])


# ---------------------------------------------------------------- building


def _make_faiss(vectors: np.ndarray, kind: str, dim: int):
    import faiss

    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        raise IndexProblem(f"unknown FAISS index kind {kind!r}; use flat or hnsw (CQQA_FAISS_INDEX)")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def file_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a version folder but its manifest, by path relative to it."""
    return {path.relative_to(folder).as_posix(): _sha256_file(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != "manifest.json"}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def damaged_files(version: Path, manifest: dict) -> list[str]:
    """Files of a version that are missing or no longer match the checksums in its manifest."""
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return ["manifest.json (no checksums)"]
    bad = []
    for name, sha in sorted(recorded.items()):
        path = version / name
        if not path.is_file():
            bad.append(f"{name} missing")
        elif _sha256_file(path) != sha:
            bad.append(f"{name} changed")
    return bad


def _read_manifest_file(version: Path) -> dict | None:
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _version_folders(index_dir: Path) -> list[Path]:
    """Complete version folders, the current one first, then newest first."""
    versions = index_dir / "versions"
    done = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  reverse=True) if versions.is_dir() else []
    current = current_version(index_dir)
    return ([current] if current in done else []) + [p for p in done if p != current]


def _reusable_vectors(index_dir: Path, model_name: str) -> tuple[dict[str, np.ndarray], dict | None]:
    """vector_key(embedded text) -> vector, from every kept version built with `model_name` (the
    same model identity as the newest such version), taking only text/vector file pairs whose
    checksums still match; and that model identity (None when nothing can be reused)."""
    out: dict[str, np.ndarray] = {}
    identity = None
    pairs = (("chunks.jsonl", "vectors.npy", lambda row: embed_input(_chunk(row))),
             (SentenceUnits.TEXTS, SentenceUnits.VECTORS, lambda row: row["text"]))
    for version in _version_folders(index_dir):
        manifest = _read_manifest_file(version)
        if (not manifest or manifest.get("format") != FORMAT or manifest.get("model", {}).get("name") != model_name
                or identity not in (None, manifest["model"])):
            continue
        recorded = manifest.get("files") or {}
        for texts_file, vectors_file, text_of in pairs:
            if any(recorded.get(f) is None or not (version / f).is_file() or _sha256_file(version / f) != recorded[f]
                   for f in (texts_file, vectors_file)):
                continue
            try:
                texts = [text_of(json.loads(line)) for line in (version / texts_file).read_text("utf-8").splitlines()]
                vectors = np.load(version / vectors_file)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if len(texts) == len(vectors):
                for text, vector in zip(texts, vectors):
                    out.setdefault(vector_key(text), vector)
                identity = manifest["model"]
    return out, identity


def _chunk(row: dict) -> Chunk:
    return Chunk(**{k: v for k, v in row.items() if k != "text_hash"})


def vector_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass
class SentenceUnits:
    """The sentences of all chunks (each text once) and which chunk holds which sentence."""

    TEXTS = "sentences.jsonl"
    VECTORS = "sentence_vectors.npy"
    OWNER = "sentence_owner.npy"

    texts: list[str]
    vectors: np.ndarray  # row j = texts[j]
    owner: np.ndarray  # (m, 2) int32 pairs: (chunk row, sentence row)

    def save(self, folder: Path) -> None:
        with open(folder / self.TEXTS, "w", encoding="utf-8") as out:
            for text in self.texts:
                out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        np.save(folder / self.VECTORS, self.vectors)
        np.save(folder / self.OWNER, self.owner)

    @classmethod
    def load(cls, folder: Path) -> "SentenceUnits":
        texts = [json.loads(line)["text"] for line in (folder / cls.TEXTS).read_text("utf-8").splitlines()]
        return cls(texts, np.load(folder / cls.VECTORS), np.load(folder / cls.OWNER))

    def best(self, query_vector: np.ndarray, n_chunks: int) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: the best sentence similarity and that sentence's row (-1 for none)."""
        owned = (self.vectors @ query_vector)[self.owner[:, 1]]  # one similarity per (chunk, sentence) pair
        best = np.full(n_chunks, -1.0, dtype=np.float32)
        np.maximum.at(best, self.owner[:, 0], owned)
        which = np.full(n_chunks, -1, dtype=np.int64)
        is_best = owned >= best[self.owner[:, 0]]
        which[self.owner[is_best, 0]] = self.owner[is_best, 1]
        return best, which


def sentence_units(chunks: list[Chunk]) -> tuple[list[str], np.ndarray]:
    texts: dict[str, int] = {}
    owner = []
    for row, chunk in enumerate(chunks):
        for sentence in sentences(chunk.text):
            owner.append((row, texts.setdefault(sentence, len(texts))))
    return list(texts), np.array(owner, dtype=np.int32).reshape(-1, 2)


def embed_input(chunk: Chunk) -> str:
    """The text the embedding model sees for a chunk."""
    return chunk.text


def lexical_input(chunk: Chunk) -> str:
    """The text the lexical index sees for a chunk."""
    return chunk.text


def _write_version(index_dir: Path, manifest: dict, chunks: list[Chunk], vectors: np.ndarray, kind: str,
                   docs: list[Document], units: "SentenceUnits", people: set[str]) -> str:
    import faiss

    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    now = time.time()  # microseconds: two builds in one second (cqqa watch) get distinct names
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}-{os.getpid()}"
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=versions))
    try:
        with open(staging / "chunks.jsonl", "w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(json.dumps({**chunk.to_dict(), "text_hash": chunk.text_hash}, ensure_ascii=False) + "\n")
        np.save(staging / "vectors.npy", vectors)
        units.save(staging)
        faiss.write_index(_make_faiss(vectors, kind, manifest["model"]["dim"]), str(staging / "faiss.index"))
        LexicalIndex.build([lexical_input(c) for c in chunks]).save(staging / "bm25")
        NameBridge.build([doc.text for doc in docs], people).save(staging / "names.json")
        with open(staging / DOCUMENTS, "w", encoding="utf-8") as out:
            for doc in docs:
                out.write(json.dumps({"doc_id": doc.doc_id, "text": doc.text}, ensure_ascii=False) + "\n")
        manifest = {**manifest, "files": file_checksums(staging)}
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str),
                                               encoding="utf-8")
        for path in staging.rglob("*"):  # durable before it becomes visible
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        staging.rename(versions / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name + "\n")
    with open(pointer_tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    return name


def _prune(index_dir: Path) -> None:
    versions = index_dir / "versions"
    current = current_version(index_dir)
    for leftover in versions.glob(".building-*"):  # from a killed build (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    done = sorted(p for p in versions.iterdir() if not p.name.startswith("."))
    for old in done[:-KEEP_VERSIONS]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _build_lock(index_dir: Path, lock_timeout: float, warn: Callable[[str], None]):
    """Hold the index folder's build lock; yields False (no lock) when the folder is read-only,
    where checking the index needs none (versions are immutable, CURRENT is replaced atomically)."""
    lock = FileLock(str(index_dir / ".lock"))
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        if lock_timeout == 0:
            raise IndexProblem(f"another `cqqa index` is building {index_dir}; wait for it to finish") from None
        warn(f"another build of {index_dir} is running; waiting for it to finish")
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise IndexProblem(f"another `cqqa index` is still building {index_dir} after {lock_timeout:g} s; "
                               "try again when it has finished") from None
    except OSError as exc:  # read-only folder or file system, or no permission
        if not index_dir.is_dir():
            raise IndexProblem(f"cannot create the index folder {index_dir} ({exc.strerror}); "
                               "pass --index with a folder you can write to") from None
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _current_manifest(index_dir: Path, note: Callable[[str], None]) -> tuple[dict | None, bool]:
    """The current version's manifest (None if there is none or it is unreadable) and whether
    every file of that version still matches its checksum."""
    version = current_version(index_dir)
    if version is None:
        return None, False
    manifest = _read_manifest_file(version)
    if manifest is None or not isinstance(manifest.get("documents"), list) or "model" not in manifest:
        note(f"the index version {version.name} is unreadable (manifest.json is damaged); rebuilding it")
        return None, False
    if manifest.get("format") != FORMAT:
        return manifest, False  # stale anyway: the settings fingerprint names the format
    bad = damaged_files(version, manifest)
    if bad:
        note(f"the index version {version.name} is damaged ({', '.join(bad)}); rebuilding it, reusing the "
             "vectors whose files still match their checksums")
    return manifest, not bad


def build_index(
    settings: Settings,
    *,
    embedder_factory: Callable[[], object] | None = None,
    progress: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    lock_timeout: float = -1,
    force: bool = False,
) -> BuildReport:
    """Bring the index in settings.index_dir up to date with settings.source_dir.

    The model is loaded (through embedder_factory) only if some chunk needs
    embedding. lock_timeout < 0 waits for a concurrent build to finish. force
    rebuilds from scratch: nothing is taken from earlier versions.
    """
    started = time.monotonic()
    index_dir = settings.index_dir
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        warn(message)

    with _build_lock(index_dir, lock_timeout, warn) as writable:
        docs = load_sources(settings, warn=note)
        if not docs:
            raise IndexProblem(f"no articles to index in {settings.source_dir} (.txt or .md files)")
        previous_manifest, intact = _current_manifest(index_dir, note)
        current = {d.doc_id: d.fingerprint for d in docs}
        reasons = _stale_reasons(previous_manifest, settings, current) if previous_manifest else ["no index"]
        if intact and not force and not reasons:
            return BuildReport(len(docs), previous_manifest["chunks"], 0, time.monotonic() - started,
                               current_version(index_dir).name, up_to_date=True, unchanged=len(docs),
                               warnings=warnings)
        if not writable:
            why = "; ".join(reasons[:3]) if reasons else "it is damaged"
            raise IndexProblem(f"the index folder {index_dir} is read-only and the index needs rebuilding ({why}); "
                               "make the folder writable, or build into another one with --index")
        changes = diff_documents(_built_documents(previous_manifest), current)
        if previous_manifest:
            for reason in _stale_settings(previous_manifest, settings):  # e.g. CQQA_CHUNK_TOKENS changed
                note(f"{reason}: rebuilding every document (vectors of unchanged texts are still reused "
                     "when the model is the same)")
        chunks = []
        for doc in tqdm(docs, desc="chunking", unit="doc", disable=not progress, leave=False):
            chunks.extend(chunk_document(doc, settings.chunks))
        if not chunks:
            raise IndexProblem(f"the articles in {settings.source_dir} produced no text to index")

        # Chunks and their sentences are both embedded; vectors of unchanged texts are reused
        # when the same model built them and their files still match their checksums.
        chunk_texts = [embed_input(c) for c in chunks]
        sentence_texts, owner = sentence_units(chunks)
        texts = chunk_texts + sentence_texts
        keys = [vector_key(text) for text in texts]
        reuse, identity = ({}, None) if force else _reusable_vectors(index_dir, settings.model)
        previous = ModelIdentity(**identity) if identity else None
        todo = [i for i, key in enumerate(keys) if key not in reuse]
        model, embedder = previous, None
        if todo:
            embedder = (embedder_factory or (lambda: _default_embedder(settings)))()
            model = embedder.identity
            if previous is None or not previous.compatible_with(model):
                reuse, todo = {}, list(range(len(texts)))
        all_vectors = np.zeros((len(texts), model.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in reuse:
                all_vectors[i] = reuse[key]
        if todo:
            all_vectors[todo] = embedder.encode_documents([texts[i] for i in todo], progress=progress)
        vectors, sentence_vectors = all_vectors[:len(chunks)], all_vectors[len(chunks):]
        embedded_chunks = sum(1 for i in todo if i < len(chunks))

        people = _people(docs, previous_manifest)
        manifest = {
            "format": FORMAT,
            "cqqa_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "model": asdict(model),
            "settings": settings_fingerprint(settings),
            "source_dir": str(settings.source_dir),
            "documents": [_doc_entry(doc, chunks, people[doc.doc_id]) for doc in docs],
            "skipped": warnings,
            "chunks": len(chunks),
            "sentences": len(sentence_texts),
        }
        units = SentenceUnits(sentence_texts, sentence_vectors, owner)
        name = _write_version(index_dir, manifest, chunks, vectors, settings.faiss_index, docs, units,
                              set().union(*people.values()))
        _prune(index_dir)
        return BuildReport(len(docs), len(chunks), embedded_chunks, time.monotonic() - started, name,
                           embedded_sentences=len(todo) - embedded_chunks, warnings=warnings, **changes)


def _people(docs: list[Document], previous_manifest: dict | None) -> dict[str, list[str]]:
    """The people each document names (for the name bridge), reused for unchanged documents:
    finding them runs jieba's part-of-speech tagger, the slowest step after embedding."""
    known = {d["sha256"]: d["people"] for d in (previous_manifest or {}).get("documents", []) if "people" in d}
    return {doc.doc_id: known[doc.sha256] if doc.sha256 in known else sorted(find_people([doc.text]))
            for doc in docs}


def _doc_entry(doc: Document, chunks: list[Chunk], people: list[str]) -> dict:
    return {
        "doc_id": doc.doc_id,
        "path": doc.path.as_posix(),
        "sha256": doc.sha256,
        "title": doc.title,
        "meta": doc.meta,
        "chunks": sum(1 for c in chunks if c.doc_id == doc.doc_id),
        "people": people,
    }


def _default_embedder(settings: Settings):
    from cqqa.embedding import Embedder

    return Embedder(settings.model, settings.dtype)
