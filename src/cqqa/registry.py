"""One registry style for every pluggable part: source formats (ingest/formats), index stores
(index/stores) and embedders (models/factory). Each keeps a dict of name -> "module:Class",
one line per backend, and `load` imports a class only when it is used: a store or embedder that
is not chosen costs no import (pymilvus, torch, ONNX Runtime stay unloaded)."""

from __future__ import annotations

from importlib import import_module


def load(spec: str):
    """The class a "module:Class" entry names."""
    module, name = spec.split(":")
    return getattr(import_module(module), name)
