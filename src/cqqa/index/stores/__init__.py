"""Where index versions live (base.py: the interface). One module per store, one line each here."""

from __future__ import annotations

from cqqa.errors import IndexProblem
from cqqa.registry import load

STORES = {
    "local": "cqqa.index.stores.local:LocalStore",  # FAISS + bm25s + files in the index folder (default)
    "milvus": "cqqa.index.stores.milvus:MilvusStore",  # Milvus Lite (a file) or a Milvus server (a URI)
}


def open_store(settings):
    """The store the settings name (CQQA_STORE / --store)."""
    if settings.store not in STORES:
        raise IndexProblem(f"unknown store {settings.store!r}; use one of {', '.join(STORES)} (CQQA_STORE or --store)")
    return load(STORES[settings.store])(settings)
