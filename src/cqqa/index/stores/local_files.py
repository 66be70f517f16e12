"""The local store's files: what one version folder holds, written and read back (with a clear
error when it cannot be), and the vectors an incremental build may reuse from kept versions.

Files of a version folder (local.py writes them through local_folders.write_version):

    manifest.json         model, chunk settings, each document's hash, counts, every file's SHA-256
    chunks.jsonl          the chunk table, one chunk per line
    vectors.npy           normalised float32 vectors, row i = chunk i
    faiss.index           the vector index over vectors.npy (vector_index.py)
    sentences.jsonl       every sentence of the chunks, once; sentence_vectors.npy their vectors;
    sentence_owner.npy    (chunk row, sentence row) pairs (sentence_units.py)
    bm25/                 lexical index (bm25s) over the same chunks, same order
    names.json            the name bridge built from this corpus (names.py)
    documents.jsonl       each source's decoded text, so that spans can be shown in context
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cqqa.errors import IndexProblem
from cqqa.index.inputs import embed_input, vector_key
from cqqa.index.lexical import LexicalIndex
from cqqa.index.names import NameBridge
from cqqa.index.sentence_units import SentenceUnits
from cqqa.index.stores.local_folders import MANIFEST, damaged_files, read_manifest_file, version_folders
from cqqa.index.vector_index import VectorIndex
from cqqa.index.version import FORMAT, Index, check_format, read_chunk
from cqqa.ingest.chunking import Chunk

# The files of a version folder; write_files writes them, read_version reads them.
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
LEXICAL = "bm25"
NAMES = "names.json"
DOCUMENTS = "documents.jsonl"


def write_files(folder: Path, chunks: list[Chunk], vectors: np.ndarray, sentences: SentenceUnits,
                vector_index: VectorIndex, lexical: LexicalIndex, names: NameBridge, texts: dict[str, str]) -> None:
    """Write a version's files into `folder` (store.write_version adds the manifest and swaps it in)."""
    with open(folder / CHUNKS, "w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
    np.save(folder / VECTORS, vectors)
    sentences.save(folder)
    vector_index.save(folder)
    lexical.save(folder / LEXICAL)
    names.save(folder / NAMES)
    with open(folder / DOCUMENTS, "w", encoding="utf-8") as out:
        for doc_id, text in texts.items():
            out.write(json.dumps({"doc_id": doc_id, "text": text}, ensure_ascii=False) + "\n")


def read_version(version: Path) -> Index:
    """Load one version folder (load_index loads the current one)."""
    try:
        manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"the index in {version} is corrupt ({exc}); rebuild it with `cqqa index`") from exc
    check_format(manifest, str(version.parent.parent), "cqqa index")
    try:
        chunks = [read_chunk(json.loads(line)) for line in (version / CHUNKS).read_text(encoding="utf-8").splitlines()]
        vectors = np.load(version / VECTORS)
        vector_index = VectorIndex.load(version)
        lexical = LexicalIndex.load(version / LEXICAL)
        units = SentenceUnits.load(version)
        names = NameBridge.load(version / NAMES)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexProblem(f"the index in {version} is corrupt ({exc}); rebuild it with `cqqa index`") from exc
    counts = {len(chunks), len(vectors), vector_index.size, lexical.size, manifest["chunks"]}
    if len(counts) != 1:
        raise IndexProblem(f"the index in {version} is inconsistent (chunk, vector and lexical counts differ); "
                           "rebuild it with `cqqa index`")
    if len(units.texts) != len(units.vectors) or (len(units.owner) and units.owner[:, 0].max() >= len(chunks)):
        raise IndexProblem(f"the sentence table in {version} is inconsistent; rebuild it with `cqqa index`")
    return Index(version.name, manifest, chunks, vectors, vector_index, lexical, names, units,
                 lambda: read_documents(version))


def read_documents(version: Path) -> dict[str, str]:
    lines = (version / DOCUMENTS).read_text(encoding="utf-8").splitlines()
    return {row["doc_id"]: row["text"] for row in map(json.loads, lines)}


def reusable_vectors(index_dir: Path, model_name: str) -> tuple[dict[str, np.ndarray], dict | None]:
    """For the local store's reuse: vector_key(embedded text) -> vector, from every kept version built with `model_name` (the
    same model identity as the newest such version), taking only text/vector file pairs whose
    checksums still match; and that model identity (None when nothing can be reused)."""
    out: dict[str, np.ndarray] = {}
    identity = None
    pairs = ((CHUNKS, VECTORS, lambda row: embed_input(read_chunk(row))),
             (SentenceUnits.TEXTS, SentenceUnits.VECTORS, lambda row: row["text"]))
    for version in version_folders(index_dir):
        manifest = read_manifest_file(version)
        if (not manifest or manifest.get("format") != FORMAT or manifest.get("model", {}).get("name") != model_name
                or identity not in (None, manifest["model"])):
            continue
        for texts_file, vectors_file, text_of in pairs:
            if damaged_files(version, manifest, (texts_file, vectors_file)):
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
