"""The text primitives every stage shares: what a Han character, CJK punctuation, a sentence end,
a closing quote, an identifier and a year are; which language a text is in; OpenCC folding,
jieba, and the SHA-256 of a file (model files and index files are checked by it).

Every other module builds its patterns from the constants below. Where a stage deliberately
uses a narrower set, the narrower set is a named constant there, with its reason."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Character-class bodies (for "[...]"), not patterns.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified ideographs, extension A, compatibility ideographs
HAN_COMMON = "\u4e00-\u9fff"  # the unified block alone: what jieba's dictionary words and Chinese names are written in
CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"  # CJK symbols and punctuation (。、「」), full-width forms (！？，：)
CURLY_QUOTES = "\u201c\u201d\u2018\u2019"  # “ ” ‘ ’: Chinese text quotes with them too
CHINESE_SENTENCE_ENDS = "。！？"
SENTENCE_ENDS = CHINESE_SENTENCE_ENDS + "!?…"
CLAUSE_ENDS = "；;"  # end a clause, not a sentence: the sentence table splits there, a quote runs on (quotes.py)
DOUBLE_QUOTES_OPEN = "“「『\""
DOUBLE_QUOTES_CLOSE = "”」』\""
CLOSING_QUOTES = DOUBLE_QUOTES_CLOSE + "’'"
CLOSERS = CLOSING_QUOTES + "）)"  # what may follow a sentence end and still belong to its sentence

# A number of three or more digits as written ("2024", "33618", "206.6"; not a trailing dot).
IDENTIFIER = re.compile(r"(?<![\d.])\d[\d.]{2,}(?<!\.)")
YEAR = re.compile(r"(?<![\d.])(?:19|20)\d\d(?![\d.%])")  # 1900-2099 as written, not inside a number or a share

_SPACE = re.compile(r"\s+")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only in broken input (e.g. JSON "\\ud800"); not encodable
_HAN = re.compile(f"[{HAN}]")


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


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def language(text: str) -> str:
    """The language a question (or any text) is written in: en, zh-Hans or zh-Hant. Chinese if it
    has any Han character; Traditional if OpenCC's Traditional-to-Simplified conversion changes it.
    The refusal decision reads its family (`language_family`), the answer is written in it."""
    if not has_han(text):
        return "en"
    return "zh-Hant" if to_simplified(text) != text else "zh-Hans"


def language_family(lang: str) -> str:
    """en or zh: what the refusal decision is fitted per (Simplified and Traditional together)."""
    return lang.partition("-")[0]


def escaped(chars: str) -> str:
    """A character-class body with every non-ASCII character as \\uXXXX (for grammars and JSON)."""
    return "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in chars)


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


_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # "，" -> ",", "（" -> "(": same length
_HALF_WIDTH |= {ord(dash): "-" for dash in "‐‑‒–—―－"}  # "2025—2027" is "2025-2027" (OCR reads one dash for all)
_HALF_WIDTH |= {ord(mark): None for mark in "‘’“”「」『』\"＂"}  # quotation marks say nothing of the fact (OCR drops some)


def fold(text: str) -> str:
    """The form in which evidence and passages are compared: no spaces, Simplified, full-width
    punctuation and letters as their ASCII forms (one source writes "轉折點:傳統", another "董事长（创
    始人）"; OCR reads either way), every dash as "-", no quotation marks."""
    return to_simplified(_SPACE.sub("", text)).translate(_HALF_WIDTH)


def width(line: str) -> int:
    """A line's printed width in half-width characters (a Chinese character counts 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line.strip())
