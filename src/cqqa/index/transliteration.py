"""Western names across scripts: "Josh Norman" in an English question, 约什·诺曼 in the article.

Chinese writes a Western or Japanese name by sound (诺曼 nuò màn for Norman, 卡卡 kǎ kǎ for Gaga),
and not always as a dictionary does (CC-CEDICT's Josh is 乔希; the article's is 约什). The pinyin
bridge (names.py) knows only Chinese names and the curated table, so such names were invisible
to lexical search and were called "terms the articles never use".

Both sides are reduced to a *sound key*, the sequence of their consonants in coarse classes
(p/b, t/d, k/g, s-like, l/r, m, n, f, w/v, h), vowels dropped:

* a corpus name by its pinyin: the initial of each syllable, plus N for a final -n/-ng
  (诺曼 nuo man -> N M N; 尔 er -> L, as it writes a final l or r);
* an English name by spelling rules (sh, ch, j, soft c -> s; ph -> f; th -> t; a post-vocalic r
  is silent in "Norman" but written 尔 in "Carter", so both keys are tried).

Names match when their keys are equal, or, from four classes on, differ in one class after the
first two (Kuechly KKL ~ 坎克利 KNKL is too far: a miss, not a guess). Capitalised words that are
ordinary English (CC-CEDICT glosses them in lower case: Super, Game, Panthers) are not sounded out. The corpus's foreign names are found once, when the index is
built (`foreign_names`): the parts of "·"-joined names (玛丽·麦特琳) and runs of words jieba tags as
transliterated names (卡卡, 坎+克利).
"""

from __future__ import annotations

import re
from functools import lru_cache

from cqqa.textnorm import HAN_COMMON, jieba, to_simplified

_JOINED = re.compile(f"[{HAN_COMMON}]+(?:[·•‧・][{HAN_COMMON}]+)+")  # names are written in the common block
_NAME_TAGS = frozenset({"nr", "nrt", "nrfg"})
_GENERIC_TAILS = ("队", "人", "派", "族", "区", "州", "国", "市", "省", "县", "河", "山", "岛", "湖", "号")


def _name_like(word: str) -> bool:
    return 2 <= len(word) <= 6 and not word.endswith(_GENERIC_TAILS)


def foreign_names(text: str, tagged: list[tuple[str, str]] | None = None) -> set[str]:
    """The transliterated names a text writes: parts of "·"-joined names, and runs of words jieba
    tags as names (a Chinese name such as 王伟 is found too; its key rarely matches English).
    `tagged`: jieba's part-of-speech tags of the Simplified text, when the caller has them."""
    import jieba.posseg as posseg

    jieba()
    simplified = to_simplified(text)
    found: set[str] = set()
    for match in _JOINED.finditer(simplified):
        parts = re.split(r"[·•‧・]", match.group(0))
        first = [w for w, _ in posseg.lcut(parts[0])]  # "职业碗角卫约什": keep its last word, 约什
        last = [w for w, _ in posseg.lcut(parts[-1])]  # "诺曼的": keep its first word
        parts[0] = first[-1] if first else ""
        if len(parts[0]) == 1 and len(first) > 1:
            parts[0] = first[-2] + parts[0]
        parts[-1] = last[0] if last else ""
        found.update(p for p in parts if _name_like(p))
    run: list[str] = []
    for word, flag in (posseg.lcut(simplified) if tagged is None else tagged) + [("", "x")]:
        if flag in _NAME_TAGS:
            run.append(word)
            continue
        if run and _name_like("".join(run)):
            found.add("".join(run))
        run = []
    return found


_PINYIN_INITIALS = (("zh", "S"), ("ch", "S"), ("sh", "S"), ("b", "P"), ("p", "P"), ("d", "T"), ("t", "T"),
                    ("g", "K"), ("k", "K"), ("h", "H"), ("j", "S"), ("q", "S"), ("x", "S"), ("z", "S"),
                    ("c", "S"), ("s", "S"), ("r", "L"), ("l", "L"), ("m", "M"), ("n", "N"), ("f", "F"),
                    ("w", "W"), ("y", ""))


def _syllable_key(syllable: str) -> str | None:
    if not syllable.isascii() or not syllable.isalpha():
        return None
    if syllable == "er":
        return "L"
    key = next((sound for initial, sound in _PINYIN_INITIALS if syllable.startswith(initial)), "")
    return key + ("N" if syllable.endswith(("n", "ng")) and len(syllable) > 1 else "")


@lru_cache(maxsize=65536)
def chinese_keys(word: str) -> frozenset[str]:
    """The sound keys of a Chinese name, from its pinyin: every reading of a character with
    several (什 shí in 约什, shén in 什么), at most 16 combinations."""
    from itertools import islice, product

    from pypinyin import Style, pinyin

    readings = [[k for k in (_syllable_key(r) for r in dict.fromkeys(options)) if k is not None]
                for options in pinyin(word, style=Style.NORMAL, heteronym=True)]
    if not all(readings):
        return frozenset()
    return frozenset("".join(combo) for combo in islice(product(*readings), 16))


_ENGLISH = (("tch", "S"), ("sch", "S"), ("sh", "S"), ("ch", "S"), ("ph", "F"), ("th", "T"), ("ck", "K"),
            ("qu", "K"), ("gh", ""), ("wh", "W"), ("x", "KS"), ("b", "P"), ("p", "P"), ("d", "T"), ("t", "T"),
            ("g", "K"), ("k", "K"), ("q", "K"), ("s", "S"), ("z", "S"), ("j", "S"), ("l", "L"), ("m", "M"),
            ("n", "N"), ("f", "F"), ("v", "W"), ("w", "W"))
_VOWELS = "aeiouy"


def english_keys(name: str) -> set[str]:
    """The sound keys an English spelling may have (a post-vocalic r silent or written 尔)."""
    word = re.sub(r"[^a-z]", "", name.lower())
    word = re.sub(r"(.)\1", r"\1", word)  # double letters sound once
    word = re.sub(r"^kn", "n", word)
    silent_r, spoken_r = [], []
    at = 0
    while at < len(word):
        char = word[at]
        after = word[at + 1] if at + 1 < len(word) else ""
        if char in _VOWELS:
            at += 1
            continue
        if char == "c":
            sound = "S" if after in ("e", "i", "y") else "K"
            silent_r.append(sound), spoken_r.append(sound)
            at += 1
            continue
        if char == "h":
            if at == 0 and after in _VOWELS:  # Heinrich; silent in Graham, John
                silent_r.append("H"), spoken_r.append("H")
            at += 1
            continue
        if char == "r":
            if after and after in _VOWELS:
                silent_r.append("L"), spoken_r.append("L")
            else:
                spoken_r.append("L")
            at += 1
            continue
        for spelling, sound in _ENGLISH:
            if word.startswith(spelling, at):
                silent_r.append(sound), spoken_r.append(sound)
                at += len(spelling)
                break
        else:
            at += 1
    return {k for k in ("".join(silent_r), "".join(spoken_r)) if k}


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def keys_match(english: str, chinese: str) -> bool:
    """Equal keys of two or more classes, or keys of five or more that differ in one class
    after the first two."""
    if len(english) < 2 or english[:2] != chinese[:2]:
        return False
    return english == chinese or min(len(english), len(chinese)) >= 4 and _distance(english, chinese) <= 1


class Transliterations:
    """The corpus's foreign names, looked up by the sound of an English name. Keys are bucketed
    by their first two classes (a match needs them equal), and each word's answer is kept: a
    question's names are looked up by the lexical query, the bridge and the absent-term test."""

    def __init__(self, names: list[str]):
        self.names = sorted(set(names))
        self._by_key: dict[str, list[str]] = {}
        for name in self.names:
            for key in chinese_keys(name):
                if len(key) >= 2:
                    self._by_key.setdefault(key, []).append(name)
        self._buckets: dict[str, list[str]] = {}
        for key in self._by_key:
            self._buckets.setdefault(key[:2], []).append(key)
        self._seen: dict[str, list[str]] = {}

    def lookup(self, english_name: str) -> list[str]:
        """The corpus's names that sound like `english_name` (one word), best match first."""
        if english_name not in self._seen:
            if len(self._seen) > 10_000:
                self._seen.clear()
            keys = english_keys(english_name)
            found = [(min(_distance(k, key) for k in keys), self._by_key[key])
                     for key in sorted({c for k in keys for c in self._buckets.get(k[:2], ())})
                     if any(keys_match(k, key) for k in keys)]
            ranked = [name for _, names in sorted(found, key=lambda pair: pair[0]) for name in names]
            self._seen[english_name] = list(dict.fromkeys(ranked))
        return list(self._seen[english_name])
