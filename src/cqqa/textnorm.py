"""The text primitives every stage shares: what a Han character is, OpenCC folding, jieba,
and the SHA-256 of a file (model files and index files are checked by it)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

_SPACE = re.compile(r"\s+")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only in broken input (e.g. JSON "\\ud800"); not encodable
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # CJK unified (with extension A) and compatibility ideographs


def is_han(ch: str) -> bool:
    """Whether one character is a Han character (the range of _HAN)."""
    return _HAN.fullmatch(ch) is not None


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def has_han(text: str) -> bool:
    """Whether a text has any Han character: what makes a question Chinese here."""
    return _HAN.search(text) is not None


def han_runs(text: str) -> list[str]:
    """The runs of Han characters in a text, in order ("长安 Automobile" -> ["长安"])."""
    return re.findall(_HAN.pattern + "+", text)


@lru_cache(maxsize=1)
def jieba():
    """jieba, initialised once and quietly (it logs its dictionary loading otherwise)."""
    import logging

    import jieba as _jieba

    _jieba.setLogLevel(logging.WARNING)
    _jieba.initialize()
    return _jieba


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def without_lone_surrogates(text: str) -> str:
    """`text` without UTF-16 surrogate halves: they encode nothing and no codec (OpenCC's included)
    can write them, so a client that sends one would otherwise break its own request."""
    return _LONE_SURROGATE.sub("", text)


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2tw")  # Taiwan forms (為, not 爲), as the Traditional article writes


def to_traditional(text: str) -> str:
    return _s2t().convert(without_lone_surrogates(text))


def to_simplified(text: str) -> str:
    return _t2s().convert(without_lone_surrogates(text))


def fold(text: str) -> str:
    """The form in which evidence and passages are compared."""
    return to_simplified(_SPACE.sub("", text))
