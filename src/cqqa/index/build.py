"""Build the index: bring a folder's index up to date with its sources, doing only what changed.

Documents are compared by fingerprint (file bytes and sidecar metadata). Chunks and sentences
whose text is unchanged reuse their stored vectors, taken only from files that still match
their checksums, from any kept version; so rebuilding after a small change embeds only what
changed, a damaged version is repaired with what can still be trusted, and a rebuild with
nothing changed writes nothing at all. The build checks the current version's files before
calling it up to date.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from cqqa.ingest.chunking import Chunk, chunk_document
from cqqa.config import VERSION, Settings
from cqqa.models.embedding import ModelIdentity
from cqqa.errors import IndexProblem
from cqqa.index.inputs import embed_input, lexical_input, vector_key
from cqqa.index.version import FORMAT
from cqqa.index.names import NameBridge, find_names
from cqqa.index.sentence_units import SentenceUnits, sentence_units
from cqqa.ingest.formats import SUFFIXES
from cqqa.ingest.sources import Document, load_sources
from cqqa.index.staleness import built_documents, diff_documents, settings_fingerprint, stale_reasons, stale_settings
from cqqa.index.stores import open_store
from cqqa.index.stores.base import Payload, Store



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


def build_index(
    settings: Settings,
    *,
    embedder_factory: Callable[[], object] | None = None,
    progress: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    lock_timeout: float = -1,
    force: bool = False,
) -> BuildReport:
    """Bring the index in the configured store (settings.store) up to date with settings.source_dir.

    The model is loaded (through embedder_factory) only if some chunk needs
    embedding. lock_timeout < 0 waits for a concurrent build to finish. force
    rebuilds from scratch: nothing is taken from earlier versions.
    """
    started, started_at = time.monotonic(), time.time()
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        warn(message)
    store = open_store(settings)
    with store.lock(lock_timeout, warn) as writable:
        docs = load_sources(settings, warn=note, progress=progress)
        if not docs:
            raise IndexProblem(f"no articles to index in {settings.source_dir} ({' '.join(SUFFIXES)} files)")
        previous_manifest, intact = store.state(note)
        current = {d.doc_id: d.fingerprint for d in docs}
        reasons = stale_reasons(previous_manifest, settings, current) if previous_manifest else ["no index"]
        if intact and not force and not reasons:
            return BuildReport(len(docs), previous_manifest["chunks"], 0, time.monotonic() - started,
                               store.current(), up_to_date=True, unchanged=len(docs),
                               warnings=warnings)
        if not writable:
            why = "; ".join(reasons[:3]) if reasons else "it is damaged"
            raise IndexProblem(f"the index folder {store.where} is read-only and the index needs rebuilding ({why}); "
                               "make the folder writable, or build into another one with --index")
        changes = diff_documents(built_documents(previous_manifest), current)
        if previous_manifest:
            for reason in stale_settings(previous_manifest, settings):  # e.g. CQQA_CHUNK_TOKENS changed
                note(f"{reason}: rebuilding every document (vectors of unchanged texts are still reused "
                     "when the model is the same)")
        chunks = [c for doc in tqdm(docs, desc="chunking", unit="doc", disable=not progress, leave=False)
                  for c in chunk_document(doc, settings.chunks)]
        if not chunks:
            raise IndexProblem(f"the articles in {settings.source_dir} produced no text to index")
        # Chunks and their sentences are both embedded; vectors of unchanged texts are reused
        # when the same model built them and their files still match their checksums.
        chunk_texts = [embed_input(c) for c in chunks]
        sentence_texts, owner = sentence_units(chunks)
        texts = chunk_texts + sentence_texts
        all_vectors, model, todo = _embed(texts, store, settings, embedder_factory, force, progress)
        vectors, sentence_vectors = all_vectors[:len(chunks)], all_vectors[len(chunks):]
        embedded_chunks = sum(1 for i in todo if i < len(chunks))

        units = SentenceUnits(sentence_texts, sentence_vectors, owner)
        name = _write(store, settings, docs, chunks, vectors, units, model, _names(docs, previous_manifest), warnings,
                      started_at, progress)
        return BuildReport(len(docs), len(chunks), embedded_chunks, time.monotonic() - started, name,
                           embedded_sentences=len(todo) - embedded_chunks, warnings=warnings, **changes)


def _write(store: Store, settings: Settings, docs: list[Document], chunks: list[Chunk], vectors: np.ndarray,
           units: SentenceUnits, model: ModelIdentity, names: dict[str, dict[str, list[str]]],
           warnings: list[str], started_at: float, progress: bool) -> str:
    """Write a new version (its data, then its manifest, then make it current) and prune old ones; its name."""
    chunks_per_doc = Counter(c.doc_id for c in chunks)  # once: per document it was quadratic at 100k chunks
    manifest = {
        "format": FORMAT, "cqqa_version": VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sources_read_at": started_at,  # staleness.looks_current: a source modified after this is newer
        "model": asdict(model), "settings": settings_fingerprint(settings), "source_dir": str(settings.source_dir),
        "documents": [_doc_entry(doc, chunks_per_doc[doc.doc_id], names[doc.doc_id]) for doc in docs],
        "skipped": warnings, "chunks": len(chunks), "sentences": len(units.texts),
    }
    bridge = NameBridge.build([doc.text for doc in docs], {p for n in names.values() for p in n["people"]},
                              {f for n in names.values() for f in n["foreign"]})
    payload = Payload(chunks, vectors, [vector_key(embed_input(c)) for c in chunks], [lexical_input(c) for c in chunks],
                      units, bridge, {doc.doc_id: doc.text for doc in docs}, settings.faiss_index)
    name = store.write(manifest, payload, progress)
    store.prune()
    return name


def _embed(texts: list[str], store: Store, settings: Settings, embedder_factory, force: bool, progress: bool):
    """Vectors for `texts`: reused where the same model embedded the same text in a kept version
    whose files still match their checksums, else embedded (the model is loaded only then).
    Returns the vectors, the model identity and the rows that were embedded."""
    keys = [vector_key(text) for text in texts]
    reuse, identity = ({}, None) if force else store.reusable(settings.model, set(keys))
    previous = ModelIdentity(**identity) if identity else None
    todo = [i for i, key in enumerate(keys) if key not in reuse]
    model, embedder = previous, None
    if todo:
        embedder = (embedder_factory or (lambda: _default_embedder(settings)))()
        model = embedder.identity
        if previous is None or not previous.compatible_with(model):
            reuse, todo = {}, list(range(len(texts)))
    vectors = np.zeros((len(texts), model.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in reuse:
            vectors[i] = reuse[key]
    if todo:
        vectors[todo] = embedder.encode_documents([texts[i] for i in todo], progress=progress)
    return vectors, model, todo


def _names(docs: list[Document], previous_manifest: dict | None) -> dict[str, dict[str, list[str]]]:
    """The people and the transliterated foreign names each document writes (for the name
    bridge), reused for unchanged documents: finding them runs jieba's part-of-speech tagger,
    the slowest step after embedding."""
    known = {d["sha256"]: {"people": d["people"], "foreign": d["foreign"]}
             for d in (previous_manifest or {}).get("documents", []) if "people" in d and "foreign" in d}
    for doc in docs:
        if doc.sha256 not in known:  # identical texts under two names are tagged once
            people, foreign = find_names(doc.text)
            known[doc.sha256] = {"people": sorted(people), "foreign": sorted(foreign)}
    return {doc.doc_id: known[doc.sha256] for doc in docs}


def _doc_entry(doc: Document, chunk_count: int, names: dict[str, list[str]]) -> dict:
    return {
        "doc_id": doc.doc_id,
        "path": doc.path.as_posix(),
        "sha256": doc.sha256,
        "title": doc.title,
        "meta": doc.meta,
        "chunks": chunk_count,
        "people": names["people"],
        "foreign": names["foreign"],
    }


def _default_embedder(settings: Settings):
    from cqqa.models.factory import load_embedder  # here, not at the top: a no-op build never imports torch

    return load_embedder(settings)
