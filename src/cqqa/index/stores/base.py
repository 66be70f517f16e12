"""What a store is: where index versions live, how one is written and becomes current, how
one is read back. build.py and the searcher speak only to this interface; each store is one
module (local.py: FAISS, bm25s and files; milvus.py: a Milvus collection per table).

Every store keeps the same promises: a version is complete before it becomes current, in one
atomic step; an interrupted build leaves the previous version serving; versions are never
modified, so readers need no lock; `reusable` hands back stored vectors of unchanged texts, so
an incremental build embeds only what changed.
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

KEEP_VERSIONS = 2  # the current version and the one before it (answers link into it); both stores keep so many

if TYPE_CHECKING:
    from cqqa.index.names import NameBridge
    from cqqa.index.sentence_units import SentenceUnits
    from cqqa.index.version import Index
    from cqqa.ingest.chunking import Chunk



def new_version_name() -> str:
    """UTC time to the microsecond and the process: two builds in one second (cqqa watch) or at
    once get distinct names, and names sort by age."""
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}-{os.getpid()}"


@dataclass
class Payload:
    """Everything a version holds, as build.py computed it; each store lays it out its own way."""

    chunks: list["Chunk"]
    vectors: np.ndarray  # row i = chunks[i], normalised float32
    chunk_keys: list[str]  # build.vector_key of each chunk's embedded text (reuse across versions)
    lexical_texts: list[str]  # what the lexical index sees, one per chunk
    sentences: "SentenceUnits"
    names: "NameBridge"
    texts: dict[str, str]  # doc id -> decoded source text (the article page)
    vector_kind: str  # flat or hnsw (CQQA_FAISS_INDEX)


class Store:
    """One place index versions live. `where` names it in messages ("index/", "milvus at …")."""

    where: str

    def lock(self, lock_timeout: float, warn: Callable[[str], None]) -> AbstractContextManager[bool]:
        """Held while building; yields whether the store can be written."""
        raise NotImplementedError

    def current(self) -> str | None:
        """The name of the version in use, or None when there is none."""
        raise NotImplementedError

    def has(self, version: str) -> bool:
        """Whether a complete version of that name is kept."""
        raise NotImplementedError

    def manifest(self, version: str | None = None) -> dict | None:
        """A version's manifest (the current one's by default); None when there is none."""
        raise NotImplementedError

    def state(self, note: Callable[[str], None]) -> tuple[dict | None, bool]:
        """The current version's manifest (None if none or unreadable) and whether all of it is intact."""
        raise NotImplementedError

    def reusable(self, model_name: str, keys: set[str]) -> tuple[dict[str, np.ndarray], dict | None]:
        """Stored vectors of the texts with these keys (build.vector_key) from kept versions built
        with `model_name`, and that model's identity (None when nothing can be reused)."""
        raise NotImplementedError

    def write(self, manifest: dict, payload: Payload, progress: bool = False) -> str:
        """Write a new version, make it current once complete; returns its name."""
        raise NotImplementedError

    def kept(self) -> list[str]:
        """Complete versions kept, newest first."""
        raise NotImplementedError

    def use(self, version: str) -> None:
        """Make a kept, complete version current (`cqqa index --restore`)."""
        raise NotImplementedError

    def restore(self, version: str | None = None) -> str:
        """Serve a kept version again (by default the newest one before the current); its name.
        The next `cqqa index` rebuilds from the sources as usual."""
        from cqqa.errors import IndexProblem
        from cqqa.index.version import FORMAT

        current = self.current()
        choices = [v for v in self.kept() if v != current and (self.manifest(v) or {}).get("format") == FORMAT]
        if version is None and not choices:
            raise IndexProblem(f"no earlier index version is kept in {self.where} to restore")
        version = version or choices[0]
        if version not in choices:
            raise IndexProblem(f"no version {version} to restore in {self.where}"
                               + (f"; kept: {', '.join(choices)}" if choices else ""))
        self.use(version)
        return version

    def prune(self) -> None:
        """Drop what a killed build left and versions past KEEP_VERSIONS (never the current one)."""
        raise NotImplementedError

    def load(self, version: str | None = None) -> "Index":
        """A version (the current one by default) ready to search, or an IndexProblem saying why not."""
        raise NotImplementedError
