"""A tiny deterministic stand-in for the embedding model, for fast unit tests of the logic
around it (fusion, answerability, the build's reuse). Never for retrieval quality: that is
what the real-model tests measure.

Each text becomes the normalised count vector of its character bigrams (Traditional folded to
Simplified), hashed into DIM buckets: texts sharing many bigrams are close, others are not."""

from __future__ import annotations

import zlib

import numpy as np

from cqqa.models.embedding import ModelIdentity
from cqqa.textnorm import to_simplified

DIM = 256


class FakeEmbedder:
    identity = ModelIdentity(name="fake-bigrams", weights_sha256="0" * 64, dim=DIM, dtype="float32")

    def __init__(self):
        self.calls: list[int] = []  # how many texts each encode_documents call embedded

    def _vector(self, text: str) -> np.ndarray:
        text = to_simplified(text.lower())
        vector = np.zeros(DIM, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            vector[zlib.crc32((a + b).encode()) % DIM] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        return np.stack([self._vector(q) for q in queries]) if queries else np.zeros((0, DIM), np.float32)

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)
