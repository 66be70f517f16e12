"""The default store: each version a folder of files under the index folder (FAISS, bm25s, numpy,
JSON lines), made current by replacing the CURRENT file. Its layout is local_folders.py's (folders,
CURRENT, checksums, lock) and local_files.py's (the files of one version), as Milvus's is
milvus_schema.py's and milvus_parts.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from cqqa.errors import IndexProblem
from cqqa.index.lexical import LexicalIndex
from cqqa.index.stores import local_folders as folders
from cqqa.index.stores.base import Payload, Store
from cqqa.index.stores.local_files import read_version, reusable_vectors, write_files
from cqqa.index.vector_index import VectorIndex
from cqqa.index.version import FORMAT, Index


class LocalStore(Store):
    def __init__(self, settings):
        self.index_dir: Path = settings.index_dir
        self.where = str(self.index_dir)

    def lock(self, lock_timeout: float, warn: Callable[[str], None]):
        return folders.build_lock(self.index_dir, lock_timeout, warn)

    def current(self) -> str | None:
        version = folders.current_version(self.index_dir)
        return version.name if version else None

    def _folder(self, version: str) -> Path:
        return self.index_dir / "versions" / version

    def has(self, version: str) -> bool:
        return "/" not in version and not version.startswith(".") and self._folder(version).is_dir()

    def manifest(self, version: str | None = None) -> dict | None:
        if version is None:
            return folders.read_manifest(self.index_dir)
        return folders.read_manifest_file(self._folder(version)) if self.has(version) else None

    def state(self, note: Callable[[str], None]) -> tuple[dict | None, bool]:
        version = folders.current_version(self.index_dir)
        if version is None:
            return None, False
        manifest = folders.read_manifest_file(version)
        if manifest is None or not isinstance(manifest.get("documents"), list) or "model" not in manifest:
            note(f"the index version {version.name} is unreadable (manifest.json is damaged); rebuilding it")
            return None, False
        if manifest.get("format") != FORMAT:
            return manifest, False  # stale anyway: the settings fingerprint names the format
        bad = folders.damaged_files(version, manifest)
        if bad:
            note(f"the index version {version.name} is damaged ({', '.join(bad)}); rebuilding it, reusing the "
                 "vectors whose files still match their checksums")
        return manifest, not bad

    def reusable(self, model_name: str, keys: set[str]) -> tuple[dict[str, np.ndarray], dict | None]:
        found, identity = reusable_vectors(self.index_dir, model_name)
        return {key: found[key] for key in keys if key in found}, identity

    def write(self, manifest: dict, payload: Payload, progress: bool = False) -> str:
        def write(folder: Path) -> None:
            write_files(folder, payload.chunks, payload.vectors, payload.sentences,
                        VectorIndex.build(payload.vectors, payload.vector_kind, payload.vectors.shape[1]),
                        LexicalIndex.build(payload.lexical_texts), payload.names, payload.texts)

        return folders.write_version(self.index_dir, manifest, write)

    def kept(self) -> list[str]:
        return sorted((p.name for p in folders.version_folders(self.index_dir)), reverse=True)

    def use(self, version: str) -> None:
        folders.point_to(self.index_dir, version)

    def prune(self) -> None:
        folders.prune(self.index_dir)

    def load(self, version: str | None = None):
        if version is None:
            return load_index(self.index_dir)
        if not self.has(version):
            raise IndexProblem(f"no index version {version} in {self.index_dir}")
        return read_version(self._folder(version))


def load_index(index_dir: Path) -> Index:
    """Load the current version, or say clearly why it cannot be loaded."""
    version = folders.current_version(index_dir)
    if version is None:
        raise IndexProblem(f"no index in {index_dir}; build it with `cqqa index --index {index_dir}`")
    return read_version(version)
