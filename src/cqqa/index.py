"""Build, save and load the index: chunk table, vectors, FAISS index and manifest.

Layout of the index folder:

    index/
      CURRENT                 name of the version in use (replaced atomically)
      versions/<version>/     one complete build
        manifest.json         model, chunk settings, each document's hash, counts
        chunks.jsonl          the chunk table, one chunk per line
        vectors.npy           normalised float32 vectors, row i = chunk i
        faiss.index           FAISS index over vectors.npy
      .lock                   held while building

A build writes a new version folder, then points CURRENT at it with one atomic
rename: a build interrupted at any moment leaves the previous version in use,
intact. Chunks whose text is unchanged reuse their stored vectors, so
rebuilding after a small change embeds only what changed, and a rebuild with
nothing changed writes nothing at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock, Timeout

from cqqa import __version__
from cqqa.chunking import Chunk, chunk_document
from cqqa.config import Settings
from cqqa.embedding import ModelIdentity
from cqqa.errors import IndexProblem
from cqqa.sources import Document, load_documents

FORMAT = 1
KEEP_VERSIONS = 2


@dataclass
class Index:
    path: Path  # the version folder
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    faiss: object

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
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


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
    import faiss

    version = current_version(index_dir)
    if version is None:
        raise IndexProblem(f"no index in {index_dir}; build it with `cqqa index --index {index_dir}`")
    manifest = read_manifest(index_dir)
    if manifest.get("format") != FORMAT:
        raise IndexProblem(
            f"the index in {index_dir} has format {manifest.get('format')}, this cqqa reads {FORMAT}; "
            "rebuild it with `cqqa index`"
        )
    try:
        chunks = [Chunk(**{k: v for k, v in json.loads(line).items() if k != "text_hash"})
                  for line in (version / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        vectors = np.load(version / "vectors.npy")
        faiss_index = faiss.read_index(str(version / "faiss.index"))
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise IndexProblem(f"the index in {version} is corrupt ({exc}); rebuild it with `cqqa index`") from exc
    if not (len(chunks) == len(vectors) == faiss_index.ntotal == manifest["chunks"]):
        raise IndexProblem(f"the index in {version} is inconsistent (chunk and vector counts differ); rebuild it")
    return Index(version, manifest, chunks, vectors, faiss_index)


def staleness(index_dir: Path, settings: Settings) -> list[str]:
    """Reasons the index does not reflect the sources and settings; empty when current."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return [f"no index in {index_dir}"]
    reasons = []
    if manifest.get("settings") != settings_fingerprint(settings):
        reasons.append("chunking or index settings changed")
    if manifest["model"]["name"] != settings.model:
        reasons.append(f"built with model {manifest['model']['name']}, configured model is {settings.model}")
    built = {d["doc_id"]: d["sha256"] for d in manifest["documents"]}
    try:
        current = {d.doc_id: d.sha256 for d in load_documents(settings.source_dir)}
    except Exception as exc:  # an unreadable source is reported by `cqqa index`
        return reasons + [str(exc)]
    for doc_id in sorted(set(built) | set(current)):
        if doc_id not in built:
            reasons.append(f"new source {doc_id}")
        elif doc_id not in current:
            reasons.append(f"source {doc_id} was removed")
        elif built[doc_id] != current[doc_id]:
            reasons.append(f"source {doc_id} changed")
    return reasons


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


def _previous_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    """text_hash -> vector from the current version."""
    version = current_version(index_dir)
    if version is None:
        return {}
    try:
        lines = (version / "chunks.jsonl").read_text("utf-8").splitlines()
        hashes = [json.loads(line)["text_hash"] for line in lines]
        vectors = np.load(version / "vectors.npy")
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # an unreadable old version is simply not reused
    return dict(zip(hashes, vectors))


def embed_input(chunk: Chunk) -> str:
    """The text the embedding model sees for a chunk."""
    return chunk.text


def _write_version(index_dir: Path, manifest: dict, chunks: list[Chunk], vectors: np.ndarray, kind: str) -> str:
    import faiss

    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}"
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=versions))
    try:
        with open(staging / "chunks.jsonl", "w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(json.dumps({**chunk.to_dict(), "text_hash": chunk.text_hash}, ensure_ascii=False) + "\n")
        np.save(staging / "vectors.npy", vectors)
        faiss.write_index(_make_faiss(vectors, kind, manifest["model"]["dim"]), str(staging / "faiss.index"))
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        for path in staging.iterdir():  # durable before it becomes visible
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


def build_index(
    settings: Settings,
    *,
    embedder_factory: Callable[[], object] | None = None,
    progress: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    lock_timeout: float = -1,
) -> BuildReport:
    """Bring the index in settings.index_dir up to date with settings.source_dir.

    The model is loaded (through embedder_factory) only if some chunk needs
    embedding. lock_timeout < 0 waits for a concurrent build to finish.
    """
    started = time.monotonic()
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(str(index_dir / ".lock"), timeout=lock_timeout)
        lock.acquire()
    except Timeout:
        raise IndexProblem(f"another `cqqa index` is building {index_dir}; wait for it to finish") from None
    try:
        warnings: list[str] = []

        def note(message: str) -> None:
            warnings.append(message)
            warn(message)

        docs = load_documents(settings.source_dir, warn=note)
        if not docs:
            raise IndexProblem(f"no articles to index in {settings.source_dir} (.txt or .md files)")
        if not staleness(index_dir, settings):
            manifest = read_manifest(index_dir)
            return BuildReport(len(docs), manifest["chunks"], 0, time.monotonic() - started,
                               current_version(index_dir).name, up_to_date=True, warnings=warnings)
        chunks = [chunk for doc in docs for chunk in chunk_document(doc, settings.chunks)]
        if not chunks:
            raise IndexProblem(f"the articles in {settings.source_dir} produced no text to index")

        # Vectors of unchanged chunk texts are reused when the same model built them.
        previous = _manifest_model(index_dir, settings)
        reuse = _previous_vectors(index_dir) if previous else {}
        todo = [i for i, chunk in enumerate(chunks) if chunk.text_hash not in reuse]
        model, embedder = previous, None
        if todo:
            embedder = (embedder_factory or (lambda: _default_embedder(settings)))()
            model = embedder.identity
            if previous is None or not previous.compatible_with(model):
                reuse, todo = {}, list(range(len(chunks)))
        vectors = np.zeros((len(chunks), model.dim), dtype=np.float32)
        for i, chunk in enumerate(chunks):
            if chunk.text_hash in reuse:
                vectors[i] = reuse[chunk.text_hash]
        if todo:
            vectors[todo] = embedder.encode_documents([embed_input(chunks[i]) for i in todo], progress=progress)

        manifest = {
            "format": FORMAT,
            "cqqa_version": __version__,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "model": asdict(model),
            "settings": settings_fingerprint(settings),
            "source_dir": str(settings.source_dir),
            "documents": [_doc_entry(doc, chunks) for doc in docs],
            "skipped": warnings,
            "chunks": len(chunks),
        }
        name = _write_version(index_dir, manifest, chunks, vectors, settings.faiss_index)
        _prune(index_dir)
        return BuildReport(len(docs), len(chunks), len(todo), time.monotonic() - started, name, warnings=warnings)
    finally:
        lock.release()


def _doc_entry(doc: Document, chunks: list[Chunk]) -> dict:
    return {
        "doc_id": doc.doc_id,
        "path": doc.path.as_posix(),
        "sha256": doc.sha256,
        "title": doc.title,
        "meta": doc.meta,
        "chunks": sum(1 for c in chunks if c.doc_id == doc.doc_id),
    }


def _manifest_model(index_dir: Path, settings: Settings) -> ModelIdentity | None:
    """The previous build's model, if it is the configured one (so its vectors can be reused)."""
    manifest = read_manifest(index_dir)
    if manifest is None or manifest["model"]["name"] != settings.model:
        return None
    return ModelIdentity(**manifest["model"])


def _default_embedder(settings: Settings):
    from cqqa.embedding import Embedder

    return Embedder(settings.model, settings.dtype)
