"""Plain text and Markdown (`.txt`, `.md`): decoded, nothing else changed.

Offsets are character positions in the text as decoded here: UTF-8, a leading byte-order
mark removed, line endings left as they are. A file that is not UTF-8 is tried as GB18030
(which covers GBK and GB2312) and as Big5; the decoding whose text reads as Chinese (the
share of its characters that fall in jieba dictionary words, after Traditional-to-Simplified
folding) is used, with a warning naming the encoding. A file that reads as neither stops the
build with a message naming it and saying how to convert it.
"""

from __future__ import annotations

import re
from pathlib import Path

from cqqa.errors import SourceError
from cqqa.ingest.formats.base import Extracted, Format
from cqqa.textnorm import HAN_COMMON, jieba, to_simplified

LEGACY_ENCODINGS = ("gb18030", "big5")
MIN_CHINESE_SCORE = 0.5  # share of Han characters inside dictionary words for a decoding to count
# Counted against: the common block only, which jieba's dictionary words are written in.
DICTIONARY_HAN = re.compile(f"[{HAN_COMMON}]")


def chinese_score(text: str) -> float:
    """How much `text` reads as Chinese: the share of its Han characters that are part of a
    multi-character jieba dictionary word. Text decoded with the wrong codec scores near 0."""
    sample = to_simplified(text[:20000])
    han = len(DICTIONARY_HAN.findall(sample))
    if not han:
        return 0.0
    words = jieba().dt.FREQ
    in_words = sum(len(w) for w in jieba().cut(sample, HMM=False) if len(w) > 1 and words.get(w))
    return in_words / han


def decode(raw: bytes, path: Path, warn=lambda message: None) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc.start
    scored = []
    for encoding in LEGACY_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((chinese_score(text), encoding, text))
    if scored:
        score, encoding, text = max(scored)
        if score >= MIN_CHINESE_SCORE:
            warn(f"{path} is not UTF-8; read it as {encoding.upper()} (convert it with "
                 f"`iconv -f {encoding.upper()} -t UTF-8` to silence this)")
            return text
    raise SourceError(
        f"{path} is not UTF-8 (bad byte at position {bad}) and does not read as GB18030 or Big5 Chinese; "
        f"convert it to UTF-8, e.g. `iconv -f GB18030 -t UTF-8` (Simplified) or `iconv -f BIG5 -t UTF-8` (Traditional)"
    )


class TextFormat(Format):
    name, label, suffixes, priority = "text", "a text file", (".txt", ".md"), 0

    def sniff(self, raw: bytes) -> bool:
        return b"\x00" not in raw[:8192]

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        return Extracted(decode(raw, path, warn))
