"""Lexical retrieval: BM25 (bm25s) over jieba search-mode tokens.

Text is folded Traditional -> Simplified (OpenCC) and lower-cased, then cut
with jieba's search mode (words and their sub-words). Numbers stay whole
("2.0", "8.46%") and a number with its unit is one more token ("206.6万").
Punctuation and stop words are dropped. Displayed text is never touched: this
is only how passages and questions are matched.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cqqa.textnorm import jieba, to_simplified

NUMBER_WITH_UNIT = re.compile(r"\d+(?:\.\d+)?(?:万|亿|千|百)")
WORD = re.compile(r"[\w.%+-]+")  # a token must contain a letter, digit or CJK character
STOPWORDS = set(
    "的 了 是 在 和 与 及 等 也 都 而 就 将 对 为 以 这 那 其 之 于 或 又 并 被 把 从 向 到 由 中 上 下 里 "
    "有 个 着 过 吗 呢 吧 啊 么 什么 哪些 哪个 哪家 哪 如何 怎么 怎样 多少 几 谁 是否 为什么 请问 一个 这个 那个 "
    "他 她 它 他们 她们 它们 我 我们 你 你们 说 表示 "
    "a an the of to in on at for by with from about into and or but is are was were be been being do does did "
    "what which who whom whose when where why how much many did say said tell me please its it his her their "
    "they he she this that these those there any some".split()
)


def tokenize(text: str) -> list[str]:
    text = to_simplified(text).lower()
    tokens = [m.group() for m in NUMBER_WITH_UNIT.finditer(text)]
    for token in jieba().lcut_for_search(text):
        token = token.strip()
        if token and token not in STOPWORDS and WORD.fullmatch(token):
            tokens.append(token)
    return tokens


def coverage(tokens: list[str], vocabulary) -> float:
    """Share of the query's tokens that occur in the corpus at all (0 for an English question
    with no bridged name, ~1 for a Chinese one): how much signal the lexical list can carry."""
    if not tokens:
        return 0.0
    return sum(1 for t in tokens if t in vocabulary) / len(tokens)


class LexicalIndex:
    def __init__(self, retriever):
        self.retriever = retriever
        self.vocab = retriever.vocab_dict

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import bm25s

        corpus = [tokenize(t) or ["<empty>"] for t in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        return cls(retriever)

    @property
    def size(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (0 for chunks sharing no token with the query)."""
        known = [t for t in tokens if t in self.vocab]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)

    def coverage(self, tokens: list[str]) -> float:
        return coverage(tokens, self.vocab)

    def save(self, path: Path) -> None:
        self.retriever.save(str(path))

    @classmethod
    def load(cls, path: Path) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(path)))
