"""Search the index: a question in, ranked passages with their original spans out.

The pipeline for one question (asked after `history`):

1. make it self-contained (followup.standalone_query: names from the history are carried);
2. dense: embed it, take FAISS's top candidate chunks; score each candidate by a weighted
   mean (SENTENCE_WEIGHT) of its own similarity and its best sentence's (a question usually
   targets one sentence);
3. lexical: bridge romanised names to Chinese (names.py), tokenize, BM25 over all chunks;
4. fuse the two over the union of candidates (fusion.py) and rank;
5. answerable(): "not in the articles" when the best sentence is far from the question, or
   not close and the question uses a noun the articles never do (novelty.py).

`mode` selects a single stage for comparison: dense, lexical, rrf (naive
fusion) or hybrid (the product's default); `sentence_level` and `bridge_names`
switch those stages off, for the ablation table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from cqqa import fusion
from cqqa.config import Settings
from cqqa.errors import IndexProblem, QueryError
from cqqa.followup import standalone_query
from cqqa.index import Index, load_index
from cqqa.lexical import tokenize
from cqqa.novelty import Vocabulary
from cqqa.textnorm import without_lone_surrogates

MAX_QUERY_CHARS = 1000
MODES = ("hybrid", "dense", "lexical", "rrf")
CANDIDATES = 100  # dense candidates per query, besides every chunk with a lexical match
LEXICAL_WEIGHT = 0.2  # weight of the normalised BM25 score at full lexical coverage (tuned by `cqqa eval`)
SENTENCE_WEIGHT = 0.5  # dense score = (1 - w) * chunk similarity + w * best sentence's (eval/sweep_fusion.py)
# "Not in the articles" when the best sentence of the best passage is less similar than this.
# Chosen on eval/cqqa-eval.jsonl as the highest threshold that wrongly flags at most 3% of the
# answerable questions (2/153). Similarity alone cannot tell "Seres's employees" (absent) from
# "Seres's sales" (present), so a Chinese question with a noun the articles never use
# (novelty.py: 员工) is also flagged unless some sentence matches it closely (at least the
# second threshold; answerable questions with such a noun, e.g. 评价 for 认为, score 0.60 and
# more). Measured in the README: 14 of 18 unanswerable flagged, 2 of 153 answerable.
MIN_SENTENCE_SCORE = 0.375
MIN_SENTENCE_SCORE_WITH_ABSENT_TERMS = 0.55


@dataclass
class Hit:
    rank: int
    chunk_id: str
    doc: str
    title: str
    heading: str
    text: str
    start: int
    end: int
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None  # chunk similarity (mean with best_sentence_score when sentence-level)
    lexical_score: float | None = None  # BM25
    best_sentence: str | None = None  # the chunk's sentence closest to the question
    best_sentence_score: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class QueryPlan:
    """What the pipeline made of a question: shown by `cqqa search --explain`."""

    query: str
    names: list[str]
    tokens: list[str]
    coverage: float


def check_query(query: str) -> str:
    query = without_lone_surrogates(query if isinstance(query, str) else "").strip()
    if not query:
        raise QueryError("the query is empty; ask a question, e.g. cqqa search \"what did Yin Qi say about AI 2.0\"")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}: ask a shorter question")
    return query


@dataclass
class Retrieval:
    plan: QueryPlan
    hits: list[Hit]
    query_vector: np.ndarray | None


def _check_k(k: int) -> None:
    if k < 1:
        raise QueryError(f"k must be at least 1, not {k}")


class Searcher:
    """Loads the index and the model once; answers many queries."""

    def __init__(self, settings: Settings | None = None, *, index_dir: Path | None = None, embedder=None,
                 mode: str = "hybrid", lexical_weight: float = LEXICAL_WEIGHT, bridge_names: bool = True,
                 sentence_level: bool = True, sentence_weight: float = SENTENCE_WEIGHT, index=None):
        if mode not in MODES:
            raise QueryError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        self.settings = settings or Settings.from_env()
        self.mode, self.lexical_weight = mode, lexical_weight
        self.bridge_names, self.sentence_level, self.sentence_weight = bridge_names, sentence_level, sentence_weight
        self.index: Index = index or load_index(index_dir or self.settings.index_dir)
        built_with = self.index.model
        if built_with.name != self.settings.model:
            raise IndexProblem(
                f"the index was built with model {built_with.name}, but the configured model is "
                f"{self.settings.model}; rebuild with `cqqa index` or set CQQA_MODEL={built_with.name}"
            )
        if embedder is None and mode != "lexical":
            from cqqa.embedding import Embedder

            embedder = Embedder(self.settings.model, self.settings.dtype)
        if embedder is not None and not embedder.identity.compatible_with(built_with):
            raise IndexProblem(
                "the index was built with different model weights than the ones installed; rebuild with `cqqa index`"
            )
        self.embedder = embedder

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(list(self.index.document_texts().values()))

    def absent_terms(self, question: str) -> list[str]:
        """The nouns of a Chinese question that the articles never use (novelty.py)."""
        return self.vocabulary.absent_terms(question)

    def answerable(self, question: str, hits: list[Hit]) -> bool:
        """Whether the passages found really answer: False means "not in the articles"."""
        if not hits:
            return False
        top = hits[0]
        score = top.best_sentence_score if top.best_sentence_score is not None else top.dense_score
        if score is None:  # lexical-only mode has no calibrated score
            return True
        if score < MIN_SENTENCE_SCORE:
            return False
        return score >= MIN_SENTENCE_SCORE_WITH_ABSENT_TERMS or not self.absent_terms(question)

    def plan(self, question: str, history: Sequence[str] = ()) -> QueryPlan:
        query = standalone_query(check_query(question), history, self.index.names.subjects_in)
        names = self.index.names.expand(query) if self.bridge_names else []
        rewritten = self.index.names.rewrite(query) if self.bridge_names else query
        tokens = tokenize(rewritten)
        return QueryPlan(query, names, tokens, self.index.lexical.coverage(tokens))

    def search(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        """Passages for one question, asked after `history` (earlier user turns, oldest first)."""
        return self.retrieve(query, k, history).hits

    def retrieve(self, question: str, k: int = 5, history: Sequence[str] = ()) -> "Retrieval":
        """search(), keeping what the answer composer needs: the query as searched and its vector."""
        _check_k(k)
        plan = self.plan(question, history)
        vector = self.embedder.encode_queries([plan.query]) if self.embedder else None
        return Retrieval(plan, self._rank(plan, vector, k), None if vector is None else vector[0])

    def sentence_scores(self, retrieval: "Retrieval", hit: Hit) -> list[tuple[str, float]]:
        """Every sentence of a hit's passage, in reading order, with its similarity to the query."""
        rows = self.index.chunk_sentences(self.index.row_of(hit.chunk_id))
        if retrieval.query_vector is None or not rows:
            return [(self.index.sentences.texts[r], 0.0) for r in rows]
        scores = self.index.sentences.vectors[rows] @ retrieval.query_vector
        return [(self.index.sentences.texts[r], float(s)) for r, s in zip(rows, scores)]

    def search_many(self, requests: Sequence[tuple[str, Sequence[str]]], k: int = 5,
                    batch_size: int = 32) -> list[list[Hit]]:
        """The same as search() for many (question, history) pairs, embedding them in batches."""
        _check_k(k)
        plans = [self.plan(question, history) for question, history in requests]
        results = []
        for at in range(0, len(plans), batch_size):
            batch = plans[at:at + batch_size]
            vectors = self.embedder.encode_queries([p.query for p in batch]) if self.embedder else None
            for i, plan in enumerate(batch):
                results.append(self._rank(plan, None if vectors is None else vectors[i:i + 1], k))
        return results

    def _rank(self, plan: QueryPlan, query_vector: np.ndarray | None, k: int) -> list[Hit]:
        index = self.index
        n = len(index.chunks)
        lexical = index.lexical.scores(plan.tokens)
        best_sentence = np.full(n, -1, dtype=np.int64)
        sentence_score = np.full(n, -1.0, dtype=np.float32)
        if query_vector is None:  # lexical mode
            dense = np.zeros(n, dtype=np.float32)
            candidates = np.flatnonzero(lexical > 0)
        else:
            _, rows = index.search(query_vector, CANDIDATES)
            candidates = np.union1d(rows[0][rows[0] >= 0], np.flatnonzero(lexical > 0))
            dense = np.full(n, -1.0, dtype=np.float32)
            dense[candidates] = index.vectors[candidates] @ query_vector[0]
            if self.sentence_level and len(index.sentences.texts):
                sentence_score, best_sentence = index.sentences.best(query_vector[0], n)
                has = candidates[best_sentence[candidates] >= 0]
                dense[has] = (1 - self.sentence_weight) * dense[has] + self.sentence_weight * sentence_score[has]
        if len(candidates) == 0:
            return []
        if self.mode == "dense":
            fused = dense
        elif self.mode == "lexical":
            fused = lexical
        elif self.mode == "rrf":
            fused = fusion.rrf(dense, lexical)
        else:
            fused = fusion.weighted(dense, lexical, plan.coverage, self.lexical_weight)
        order = candidates[np.argsort(-fused[candidates], kind="stable")][:k]
        dense_ranks, lexical_ranks = fusion.rank_of(dense, order), fusion.rank_of(lexical, order)
        hits = []
        for i, row in enumerate(order):
            chunk = index.chunks[row]
            sentence = int(best_sentence[row])
            hits.append(Hit(
                len(hits) + 1, chunk.chunk_id, chunk.doc_id, chunk.title, chunk.heading, chunk.text,
                chunk.start, chunk.end, float(fused[row]),
                dense_rank=int(dense_ranks[i]) if query_vector is not None else None,
                lexical_rank=int(lexical_ranks[i]) if lexical[row] > 0 else None,
                dense_score=float(dense[row]) if query_vector is not None else None,
                lexical_score=float(lexical[row]),
                best_sentence=index.sentences.texts[sentence] if sentence >= 0 else None,
                best_sentence_score=float(sentence_score[row]) if sentence >= 0 else None,
            ))
        return hits
