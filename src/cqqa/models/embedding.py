"""The embedding model: load once, encode queries and documents with the model's own prompts.

`Embedder` is the interface the rest of cqqa uses (identity, encode_queries, encode_documents).
Two backends: `SentenceTransformerEmbedder` (torch) and `onnx_embedding.OnnxEmbedder` (int8 on
ONNX Runtime); `load_embedder(settings)` picks one (`choose_backend`).

EmbeddingGemma runs in torch bfloat16 where the CPU has native bf16 instructions
(AVX512-BF16 or AMX): measured ~3x faster than float32 with the same ranks. Elsewhere the
int8 ONNX model is used when it has been prepared (`cqqa models fetch` does it on such CPUs)
and its probe agrees with float32 on this CPU, else torch float32 (with one line saying why).
`CQQA_BACKEND` and `CQQA_DTYPE` override the choice.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cqqa.models import cpu
from cqqa.errors import ConfigError
from cqqa.models.files import resolve_model, weights_sha256


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


BACKENDS = ("auto", "torch", "onnx-int8")


def choose_backend(backend: str = "auto", dtype: str = "auto", model: str | None = None) -> str:
    """torch where bf16 is native or a dtype was asked for; else int8 ONNX when it is prepared."""
    from cqqa import config
    from cqqa.models import onnx_embedding

    if backend not in BACKENDS:
        raise ConfigError(f"CQQA_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend != "auto":
        return backend
    if dtype != "auto" or cpu_has_bf16() or (model or config.DEFAULT_MODEL) != config.DEFAULT_MODEL:
        return "torch"
    return "onnx-int8" if onnx_embedding.is_prepared() else "torch"


def load_embedder(settings, warn=lambda message: print(f"warning: {message}", file=sys.stderr, flush=True)) -> Embedder:
    """The configured model (Settings.model, .backend, .dtype), loaded. An int8 model chosen
    automatically that drifts on this CPU gives way to torch (float32 here), with one line via
    `warn`; asked for by CQQA_BACKEND=onnx-int8, the drift is an error."""
    if choose_backend(settings.backend, settings.dtype, settings.model) == "onnx-int8":
        from cqqa.models.onnx_embedding import Int8Disagrees, OnnxEmbedder

        try:
            return OnnxEmbedder(settings.model)
        except Int8Disagrees as exc:
            if settings.backend == "onnx-int8":
                raise
            warn(f"{exc}. Using torch {choose_dtype(settings.dtype)} instead")
    return SentenceTransformerEmbedder(settings.model, settings.dtype)


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


class SentenceTransformerEmbedder:
    def __init__(self, model: str, dtype: str = "auto"):
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar on every start
        hf_logging.set_verbosity_error()

        location = resolve_model(model)
        if Path(location).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder needs no network at all
        self.dtype = choose_dtype(dtype)
        self.model = SentenceTransformer(
            location, device="cpu", model_kwargs={"dtype": getattr(torch, self.dtype)}
        )
        self._queries = QueryCache(lambda texts: self.model.encode_query(texts, convert_to_numpy=True))
        self.identity = ModelIdentity(
            name=model,
            weights_sha256=weights_sha256(location) if Path(location).is_dir() else None,
            dim=int(self.model.get_embedding_dimension()),
            dtype=self.dtype,
        )

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        """Unit vectors for queries; repeated queries come from a small cache."""
        return self._queries.encode(queries)

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        vectors = self.model.encode_document(
            texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=progress
        )
        return unit_vectors(vectors)


def unit_vectors(vectors) -> np.ndarray:
    """Normalise in float32: normalising in bfloat16 leaves norms up to 0.5% off 1."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
