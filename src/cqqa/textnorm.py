"""Text normalisation shared by cleaning, matching and lexical search: OpenCC folding, jieba."""

from __future__ import annotations

import re
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # CJK unified (with extension A) and compatibility ideographs


def has_han(text: str) -> bool:
    """Whether a text has any Han character: what makes a question Chinese here."""
    return _HAN.search(text) is not None


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


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def fold(text: str) -> str:
    """The form in which evidence and passages are compared."""
    return to_simplified(_SPACE.sub("", text))
