"""Numbers in Chinese and English text, by value: what the reader's number check compares.

    206.6万 = 2,066,000 = 2.066 million      2500亿元 = 250,000,000,000 = 250 billion yuan
    4万亿 = 4 trillion    百分之五十 = 50%      两千亿 = 200 billion     １２３ (full width) = 123

`chinese_quantities(text)` reads Arabic numbers with Chinese magnitudes (万, 亿, 千万 …) and
Chinese numerals (cn2an); `english_quantities(text)` reads Arabic numbers with English scale
words (thousand, million, billion, trillion). `english_magnitudes(text)` writes a Chinese
sentence's magnitudes the way English does, for the reader model: given 206.6万 a 1.5B model
wrote "206.6 million"; given 2,066,000 it wrote the right number mostly, but 27亿 as 2,700,000,000
came out "27 billion" and 4万亿 "400 billion"; given "2.7 billion" and "4 trillion" it copies
them (`cqqa eval --answers --reader --reader-limit 45`: withheld translations 7 -> 3).
`unsupported(translation, source)` lists the numbers of a translation that equal no number of
its source.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

_WIDE = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
_ARABIC = r"(?<![\d.])(\d{1,3}(?:,\d{3})+(?![\d])|\d+)(\.\d+)?"
CHINESE_MAGNITUDES = {"万亿": 10**12, "萬億": 10**12, "千亿": 10**11, "千億": 10**11, "百亿": 10**10, "百億": 10**10,
                      "十亿": 10**9, "十億": 10**9, "亿": 10**8, "億": 10**8, "千万": 10**7, "千萬": 10**7,
                      "百万": 10**6, "百萬": 10**6, "十万": 10**5, "十萬": 10**5, "万": 10**4, "萬": 10**4}
_CHINESE_ARABIC = re.compile(_ARABIC + r"\s*(" + "|".join(sorted(CHINESE_MAGNITUDES, key=len, reverse=True)) + r")?"
                             r"(\s*[%％])?")
_CHINESE_NUMERAL = re.compile(r"(百分之)?([零〇一二两兩三四五六七八九十百千万萬亿億]+)")
_NUMERAL_FOLD = str.maketrans({"萬": "万", "億": "亿", "兩": "两"})
_SINGLE = {c: v for v, chars in enumerate(["零〇", "一", "二两兩", "三", "四", "五", "六", "七", "八", "九", "十"])
           for c in chars}
ENGLISH_SCALES = {"hundred": 10**2, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
                  "mn": 10**6, "bn": 10**9}
# Not a number of its own when letters are attached ("V2V", "5G", "L3"), except a plural or an
# ordinal ("the 1980s", "29th").
_ENGLISH = re.compile(r"(?<![A-Za-z])" + _ARABIC + r"(?!(?!s\b|st\b|nd\b|rd\b|th\b)[A-Za-z])((?:\s*-?\s*(?:" + "|".join(ENGLISH_SCALES) + r")\b)*)(\s*(?:%|per\s?cent\b))?",
                      re.IGNORECASE)


@dataclass(frozen=True)
class Quantity:
    text: str  # as written
    value: float
    tolerance: float  # half a unit of the last digit written (2.07 million: 5,000); 0 for exact
    start: int = 0
    end: int = 0

    def matches(self, other: "Quantity") -> bool:
        """Equal by value; a rounding counts when it keeps at least two significant digits."""
        return abs(self.value - other.value) <= max(self.tolerance, 1e-9 * abs(other.value))


def _arabic(whole: str, fraction: str | None, scale: int, text: str, start: int, end: int) -> Quantity:
    digits = whole.replace(",", "")
    value = float(digits + (fraction or "")) * scale
    decimals = len(fraction) - 1 if fraction else 0
    significant = len((digits + (fraction or "")[1:]).lstrip("0").rstrip("0" if not fraction else ""))
    tolerance = 0.5 * 10 ** -decimals * scale if scale > 1 and significant >= 2 else 0.0
    return Quantity(text, value, tolerance, start, end)


@lru_cache(maxsize=4096)
def _numeral_value(numeral: str) -> int | None:
    import cn2an

    try:
        return int(cn2an.cn2an(numeral.translate(_NUMERAL_FOLD), "normal"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def chinese_quantities(text: str) -> list[Quantity]:
    """Every number a Chinese text writes, with its magnitude applied (206.6万 -> 2,066,000)."""
    text = text.translate(_WIDE)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in _CHINESE_ARABIC.finditer(text):
        scale = CHINESE_MAGNITUDES.get(m.group(3) or "", 1)
        found.append(_arabic(m.group(1), m.group(2), scale, m.group(0), m.start(), m.end()))
        taken.append(m.span())
    for m in _CHINESE_NUMERAL.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue  # the magnitude of an Arabic number, read above
        numeral = m.group(2)
        value = _numeral_value(numeral)
        if value is not None:
            found.append(Quantity(m.group(0), float(value), 0.0, m.start(), m.end()))
        else:  # not one number ("一体化", "十四五", a stray 万): its digits, so a translation may use them
            found.extend(Quantity(c, float(_SINGLE[c]), 0.0, m.start() + i, m.start() + i + 1)
                         for i, c in enumerate(numeral) if c in _SINGLE)
    return sorted(found, key=lambda q: q.start)


def english_quantities(text: str) -> list[Quantity]:
    """Every number an English text writes in digits, with its scale words (2.066 million)."""
    text = text.translate(_WIDE)
    found = []
    for m in _ENGLISH.finditer(text):
        scale = math.prod(ENGLISH_SCALES[w.lower()] for w in re.findall(r"[A-Za-z]+", m.group(3) or ""))
        found.append(_arabic(m.group(1), m.group(2), scale, m.group(0).strip(), m.start(), m.end()))
    return found


def translation_quantities(text: str) -> list[Quantity]:
    """The numbers of a translation: Chinese magnitudes left in it (206.6万) read as Chinese,
    the rest as English."""
    chinese = [q for q in chinese_quantities(text) if any(u in q.text for u in CHINESE_MAGNITUDES)]
    rest = text
    for q in chinese:
        rest = rest[:q.start] + " " * (q.end - q.start) + rest[q.end:]
    return sorted(chinese + english_quantities(rest), key=lambda q: q.start)


def unsupported(translation: str, source: str) -> list[Quantity]:
    """The numbers of `translation` that equal no number of `source` (each by value)."""
    known = chinese_quantities(source) + english_quantities(source)
    return [q for q in translation_quantities(translation) if not any(q.matches(k) for k in known)]


def english_magnitudes(text: str) -> str:
    """The text with each Chinese magnitude written as English writes it: 206.6万辆 -> 2.066
    million辆, 2500亿元 -> 250 billion元, 5万 -> 50,000, 百分之五十 -> 50%."""
    out, at = [], 0
    for q in chinese_quantities(text):
        has_magnitude = any(u in q.text for u in CHINESE_MAGNITUDES) and q.text[0].isdigit()
        percent = q.text.startswith("百分之")
        if not (has_magnitude or percent):
            continue
        out.append(text[at:q.start])
        out.append(f"{_digits(q.value)}%" if percent else _in_words(q.value) + q.text[len(q.text.rstrip('%％ ')):])
        at = q.end
    out.append(text[at:])
    return "".join(out)


ENGLISH_MAGNITUDES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _in_words(value: float) -> str:
    """2066000 -> " 2.066 million " (spaced: it sits between Chinese characters); 50000 -> "50,000"."""
    for scale, word in ENGLISH_MAGNITUDES:
        if value >= scale:
            return f" {_digits(value / scale)} {word} "
    return _digits(value)


def _digits(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.6f}".rstrip("0").rstrip(".")
