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

Questions in other languages get no terms: the articles are Chinese, and translating a word
to test its absence needs a dictionary this product does not ship.
"""

from __future__ import annotations

from cqqa.textnorm import fold, has_han, jieba

NOUN_TAGS = frozenset({"n", "nz", "nr", "nrfg", "nrt", "ns", "nt", "nw"})
# Nouns that make a question rather than name its topic: 什么时候, 什么样子, 什么原因 …
ASKING_NOUNS = frozenset({"时候", "样子", "地方", "原因", "东西", "名字", "意思"})


def as_written(term: str, question: str) -> str:
    """A folded term as the question writes it (淨利潤 for 净利润 in a Traditional question)."""
    compact = "".join(question.split())
    for at in range(len(compact) - len(term) + 1):
        if fold(compact[at:at + len(term)]) == term:
            return compact[at:at + len(term)]
    return term


class Vocabulary:
    """What the corpus writes, for testing whether a question's terms occur in it."""

    def __init__(self, texts: list[str]):
        self.text = fold("\n".join(texts))

    def __contains__(self, word: str) -> bool:
        return word in self.text

    def absent_terms(self, question: str) -> list[str]:
        """The nouns of a Chinese question that occur nowhere in the corpus, in question order,
        as the question writes them."""
        if not has_han(question):
            return []
        import jieba.posseg as posseg

        dictionary = jieba().dt.FREQ
        absent: list[str] = []
        for word, flag in posseg.lcut(fold(question)):
            if (flag in NOUN_TAGS and len(word) >= 2 and word not in ASKING_NOUNS
                    and dictionary.get(word, 0) > 0 and word not in self
                    and not self._parts_present(word) and word not in absent):
                absent.append(word)
        return [as_written(word, question) for word in absent]

    def _parts_present(self, word: str) -> bool:
        parts = [p for p in jieba().lcut_for_search(word) if len(p) >= 2 and p != word]
        return bool(parts) and sum(map(len, parts)) >= len(word) and all(p in self for p in parts)
