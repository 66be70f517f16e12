"""What the embedding model and the lexical index see of a chunk, and the key a text's vector is
kept under, so that any store can hand back the vectors of unchanged texts (build.py)."""

from __future__ import annotations

import hashlib

from cqqa.ingest.chunking import Chunk


def vector_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def embed_input(chunk: Chunk) -> str:
    """The text the embedding model sees for a chunk."""
    return chunk.text


def lexical_input(chunk: Chunk) -> str:
    """The text the lexical index sees for a chunk."""
    return chunk.text
