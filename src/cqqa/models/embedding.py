"""What cqqa needs of an embedding model, whatever runs it: `Embedder` (identity,
encode_queries, encode_documents), the `ModelIdentity` an index records, a query cache and unit
vectors. The backends: `torch_embedding.SentenceTransformerEmbedder` (torch, bfloat16 where the
CPU has native bf16, else float32) and `onnx_embedding.OnnxEmbedder` (int8 on ONNX Runtime);
`factory.load_embedder(settings)` picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cqqa.errors import ConfigError
from cqqa.models import cpu


QUERY_CACHE_SIZE = 20_000


def cpu_has_bf16() -> bool:
    return cpu.has_bf16()


def choose_dtype(requested: str = "auto") -> str:
    if requested == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    if requested not in ("bfloat16", "float32"):
        raise ConfigError(f"CQQA_DTYPE must be auto, bfloat16 or float32, not {requested!r}")
    return requested


@dataclass(frozen=True)
class ModelIdentity:
    """What the manifest records about the model that built an index."""

    name: str
    weights_sha256: str | None
    dim: int
    dtype: str

    def compatible_with(self, other: "ModelIdentity") -> bool:
        # dtype changes precision, not the vector space: indexes stay usable across it.
        return (self.name, self.weights_sha256, self.dim) == (other.name, other.weights_sha256, other.dim)


class Embedder(Protocol):
    """What cqqa needs of an embedding model: unit float32 vectors, one row per text."""

    identity: ModelIdentity

    def encode_queries(self, queries: list[str]) -> np.ndarray: ...

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


class QueryCache:
    """Unit query vectors by text, so a repeated question is not embedded again."""

    def __init__(self, encode):
        self._encode = encode
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, queries: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(q for q in queries if q not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > QUERY_CACHE_SIZE:
                self._vectors.clear()
            self._vectors.update(zip(missing, unit_vectors(self._encode(missing))))
        return np.stack([self._vectors[q] for q in queries])

    def clear(self) -> None:
        self._vectors.clear()


def unit_vectors(vectors) -> np.ndarray:
    """Normalise in float32: normalising in bfloat16 leaves norms up to 0.5% off 1."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
