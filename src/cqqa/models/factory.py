"""Which embedder runs here: a server's when CQQA_EMBED_BASE_URL is set; else the backend named by
CQQA_BACKEND, or on `auto` torch where bf16 is native (or a dtype was asked for), else the int8
ONNX model when it is prepared and agrees with float32 on this CPU, else torch float32 (with one
line saying why)."""

from __future__ import annotations

import sys

from cqqa import config
from cqqa.errors import ConfigError
from cqqa.models import embedding, onnx_embedding
from cqqa.models.embedding import Embedder, choose_dtype
from cqqa.models.onnx_embedding import Int8Disagrees, OnnxEmbedder
from cqqa.models.server_embedding import ServerEmbedder
from cqqa.models.torch_embedding import SentenceTransformerEmbedder

BACKENDS = ("auto", "torch", "onnx-int8")


def choose_backend(backend: str = "auto", dtype: str = "auto", model: str | None = None) -> str:
    """torch where bf16 is native or a dtype was asked for; else int8 ONNX when it is prepared."""
    if backend not in BACKENDS:
        raise ConfigError(f"CQQA_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend != "auto":
        return backend
    if dtype != "auto" or embedding.cpu_has_bf16() or (model or config.DEFAULT_MODEL) != config.DEFAULT_MODEL:
        return "torch"
    return "onnx-int8" if onnx_embedding.is_prepared() else "torch"


def load_embedder(settings, warn=lambda message: print(f"warning: {message}", file=sys.stderr, flush=True)) -> Embedder:
    """The configured model (Settings.model, .backend, .dtype), loaded. An int8 model chosen
    automatically that drifts on this CPU gives way to torch (float32 here), with one line via
    `warn`; asked for by CQQA_BACKEND=onnx-int8, the drift is an error. With CQQA_EMBED_BASE_URL
    the model runs behind that server instead."""
    if settings.embed_base_url:
        return ServerEmbedder(settings.embed_base_url, settings.model, settings.embed_api_key,
                              settings.embed_query_prefix, settings.embed_document_prefix)
    if choose_backend(settings.backend, settings.dtype, settings.model) == "onnx-int8":
        try:
            return OnnxEmbedder(settings.model)
        except Int8Disagrees as exc:
            if settings.backend == "onnx-int8":
                raise
            warn(f"{exc}. Using torch {choose_dtype(settings.dtype)} instead")
    return SentenceTransformerEmbedder(settings.model, settings.dtype)
