"""The nearest-neighbour index over chunk vectors: FAISS, exact inner product (flat) or HNSW."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cqqa.errors import IndexProblem

FILE = "faiss.index"


def similarities(vectors, rows, query_vector: np.ndarray) -> np.ndarray:
    """Inner products of the stored vectors of `rows` with the query: computed here for vectors
    in memory (or memory-mapped), by the engine that holds them otherwise (stores/milvus_parts.py),
    so that only the scores travel."""
    if isinstance(vectors, np.ndarray):
        return vectors[rows] @ query_vector
    return vectors.similarities(rows, query_vector)


class VectorIndex:
    """FAISS behind three calls: build, save/load, nearest."""

    def __init__(self, faiss_index):
        self._faiss = faiss_index

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str, dim: int) -> "VectorIndex":
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
        return cls(index)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self._faiss, str(folder / FILE))

    @classmethod
    def load(cls, folder: Path) -> "VectorIndex":
        import faiss

        return cls(faiss.read_index(str(folder / FILE)))

    @property
    def size(self) -> int:
        return int(self._faiss.ntotal)

    def nearest(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows) of the k nearest vectors to each query vector; rows -1 past the end."""
        k = min(k, self.size)
        if k == 0:
            empty = np.zeros((len(query_vectors), 0))
            return empty, empty.astype(np.int64)
        return self._faiss.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)
