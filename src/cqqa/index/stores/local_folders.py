"""The local store's folders: where index versions live on disk, and how one becomes current.

    index/
      CURRENT                 name of the version in use (replaced atomically)
      versions/<version>/     one complete build; manifest.json lists the SHA-256 of every other file
      .lock                   held while building

A version is written into a hidden staging folder, made durable, renamed into
versions/, and only then named in CURRENT: a build interrupted at any moment
leaves the previous version in use, intact. Versions are never modified, so
reading needs no lock (a read-only index folder can be served).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from filelock import FileLock, Timeout

from cqqa.errors import IndexProblem
from cqqa.index.stores.base import KEEP_VERSIONS, new_version_name
from cqqa.textnorm import sha256_file

MANIFEST = "manifest.json"


def current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    path = index_dir / "versions" / pointer.read_text().strip()
    return path if path.is_dir() else None


def read_manifest(index_dir: Path) -> dict | None:
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexProblem(f"the index in {index_dir} is corrupt ({exc}); rebuild it with `cqqa index`") from exc


def read_manifest_file(version: Path) -> dict | None:
    try:
        manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def version_folders(index_dir: Path) -> list[Path]:
    """Complete version folders, the current one first, then newest first."""
    versions = index_dir / "versions"
    done = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  reverse=True) if versions.is_dir() else []
    current = current_version(index_dir)
    return ([current] if current in done else []) + [p for p in done if p != current]


def file_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of a version folder but its manifest, by path relative to it."""
    return {path.relative_to(folder).as_posix(): sha256_file(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != MANIFEST}


def damaged_files(version: Path, manifest: dict, names: tuple[str, ...] | None = None) -> list[str]:
    """Files of a version (all, or just `names`) that are missing, unrecorded or no longer match
    the checksums in its manifest."""
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return ["manifest.json (no checksums)"]
    bad = []
    for name in sorted(recorded) if names is None else names:
        path = version / name
        if name not in recorded:
            bad.append(f"{name} not recorded")
        elif not path.is_file():
            bad.append(f"{name} missing")
        elif sha256_file(path) != recorded[name]:
            bad.append(f"{name} changed")
    return bad


def write_version(index_dir: Path, manifest: dict, write_files: Callable[[Path], None]) -> str:
    """Write a new version (the files from `write_files(folder)`, then the manifest with their
    checksums), make it durable and current; returns its name."""
    versions = index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    name = new_version_name()
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=versions))
    try:
        write_files(staging)
        manifest = {**manifest, "files": file_checksums(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, default=str),
                                        encoding="utf-8")
        for path in staging.rglob("*"):  # durable before it becomes visible
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        staging.rename(versions / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    point_to(index_dir, name)
    return name


def point_to(index_dir: Path, name: str) -> None:
    """Make version `name` current: CURRENT replaced in one step."""
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(name + "\n")
    with open(pointer_tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")


def prune(index_dir: Path) -> None:
    versions = index_dir / "versions"
    current = current_version(index_dir)
    for leftover in versions.glob(".building-*"):  # from a killed build (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    done = sorted(p for p in versions.iterdir() if not p.name.startswith("."))
    for old in done[:-KEEP_VERSIONS]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)



@contextmanager
def build_lock(index_dir: Path, lock_timeout: float, warn: Callable[[str], None]):
    """Hold the index folder's build lock; yields False (no lock) when the folder is read-only,
    where checking the index needs none (versions are immutable, CURRENT is replaced atomically)."""
    lock = FileLock(str(index_dir / ".lock"))
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:
        if lock_timeout == 0:
            raise IndexProblem(f"another `cqqa index` is building {index_dir}; wait for it to finish") from None
        warn(f"another build of {index_dir} is running; waiting for it to finish")
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise IndexProblem(f"another `cqqa index` is still building {index_dir} after {lock_timeout:g} s; "
                               "try again when it has finished") from None
    except OSError as exc:  # read-only folder or file system, or no permission
        if not index_dir.is_dir():
            raise IndexProblem(f"cannot create the index folder {index_dir} ({exc.strerror}); "
                               "pass --index with a folder you can write to") from None
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
