"""The torch backend: EmbeddingGemma (or any sentence-transformers model) through
sentence-transformers, with the model's own query and document prompts; bfloat16 where the CPU
has native bf16 instructions (AVX512-BF16 or AMX: ~3x faster than float32, the same ranks), else
float32 (`CQQA_DTYPE` overrides)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cqqa.models.embedding import ModelIdentity, QueryCache, choose_dtype, unit_vectors
from cqqa.models.files import resolve_model, weights_sha256


class SentenceTransformerEmbedder:
    @classmethod
    def from_settings(cls, settings) -> "SentenceTransformerEmbedder":
        return cls(settings.model, settings.dtype)

    def __init__(self, model: str, dtype: str = "auto"):
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar on every start
        hf_logging.set_verbosity_error()

        location = resolve_model(model)
        self.dtype = choose_dtype(dtype)
        self.model = SentenceTransformer(
            location, device="cpu", model_kwargs={"dtype": getattr(torch, self.dtype)}
        )
        self.query_cache = QueryCache(lambda texts: self.model.encode_query(texts, convert_to_numpy=True))
        self.identity = ModelIdentity(
            name=model,
            weights_sha256=weights_sha256(location) if Path(location).is_dir() else None,
            dim=int(self.model.get_embedding_dimension()),
            dtype=self.dtype,
        )

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        """Unit vectors for queries; repeated queries come from a small cache."""
        return self.query_cache.encode(queries)

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        vectors = self.model.encode_document(
            texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=progress
        )
        return unit_vectors(vectors)
