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
from cqqa.models.onnx_embedding import Int8Disagrees
from cqqa.registry import load

# Each class makes itself from the settings (`from_settings`).
EMBEDDERS = {
    "torch": "cqqa.models.torch_embedding:SentenceTransformerEmbedder",  # sentence-transformers, bf16 or float32
    "onnx-int8": "cqqa.models.onnx_embedding:OnnxEmbedder",  # the int8 export on ONNX Runtime
    "server": "cqqa.models.server_embedding:ServerEmbedder",  # an OpenAI-compatible /v1/embeddings server
}
BACKENDS = ("auto", "torch", "onnx-int8")  # what CQQA_BACKEND may name (the server is chosen by its URL)


def make(backend: str, settings) -> Embedder:
    return load(EMBEDDERS[backend]).from_settings(settings)


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
        return make("server", settings)
    if choose_backend(settings.backend, settings.dtype, settings.model) == "onnx-int8":
        try:
            return make("onnx-int8", settings)
        except Int8Disagrees as exc:
            if settings.backend == "onnx-int8":
                raise
            warn(f"{exc}. Using torch {choose_dtype(settings.dtype)} instead")
    return make("torch", settings)
