"""Search the index: a question in, one Retrieval out (ranked passages with their original
spans, and whether they answer).

The pipeline for one question (asked after `history`):

1. make it self-contained (followup.standalone_query: names from the history are carried);
2. dense: embed it, take FAISS's top candidate chunks; score each candidate by a weighted
   mean (sentence_weight) of its own similarity and its best sentence's (a question usually
   targets one sentence);
3. lexical: bridge romanised names to Chinese (names.py), tokenize, BM25 over all chunks;
4. fuse the two over the union of candidates (fusion.py) and rank;
5. who is X: when the question asks who a person is, the passage that names them with their
   title ranks first and answers; what is X: a question asking only what a person or
   organisation the articles write is, is answerable (roles.py);
6. answerable: "not in the articles" when the best sentence is far from the question, or
   not close and the question uses a noun the articles never do (absent_terms.py), or (in
   Chinese) its article never writes much of what it asks; how far is fitted per corpus and
   language (decision.py, `cqqa calibrate`);
7. judged: where a reader runs (`judge`), a question the scores leave unsure is answered only
   if the reader judges its best sentences to state the answer (judge.py: near misses).

RetrievalSettings (config.py) holds every knob: `mode` selects a single stage for comparison
(dense, lexical, rrf = naive fusion, hybrid = the product); `sentence_level` and
`bridge_names` and `subject_lookup` switch those stages off, for the ablation table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cqqa.retrieve import fusion
from cqqa.retrieve.absent_terms import Vocabulary, unwritten_share
from cqqa.retrieve.decision import Decision, Signals
from cqqa.config import RetrievalSettings, Settings
from cqqa.models.embedding import Embedder
from cqqa.errors import IndexProblem, QueryError
from cqqa.retrieve.followup import standalone_query
from cqqa.retrieve.judge import Judge
from cqqa.retrieve.question import checked
from cqqa.index.version import Index
from cqqa.index.stores import open_store
from cqqa.index.lexical import tokenize
from cqqa.index.vector_index import similarities
from cqqa.retrieve.roles import overview_subjects, role_rows
from cqqa.textnorm import IDENTIFIER, YEAR, fold, language, language_family

MAX_ROLES = 2  # "who are X and Y?": the title of each, no more


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
    page: int = 0  # the page the passage starts on (PDF sources), else 0


@dataclass
class QueryPlan:
    """What the pipeline made of a question: shown by `cqqa search --explain`."""

    query: str
    names: list[str]
    tokens: list[str]
    coverage: float
    lang: str = "en"  # the language the user asked in (textnorm.language of the question, not the query:
    # a follow-up's query carries Chinese names from the conversation)


@dataclass
class Retrieval:
    """Everything retrieval decided about one question. The assistant, `cqqa search` and
    `cqqa eval` all read this one object: "answerable" is defined and computed once, here."""

    plan: QueryPlan
    hits: list[Hit]
    answerable: bool  # False: "not in the articles"
    absent_terms: list[str]  # the question's nouns the articles never use (said in a refusal)
    index: Index | None = field(default=None, repr=False)  # the version the hits came from
    query_vector: np.ndarray | None = field(default=None, repr=False)
    roles: list[str] = field(default_factory=list)  # sentences giving the asked person's title (roles.py)
    signals: Signals | None = None  # what "answerable" was decided from (decision.py)

    @property
    def index_version(self) -> str:
        return self.index.version if self.index else ""

    def sentence_scores(self, hit: Hit) -> list[tuple[str, float]]:
        """Every sentence of a hit's passage, in reading order, with its similarity to the query."""
        index = self.index
        rows = index.chunk_sentences(index.row_of(hit.chunk_id))
        if self.query_vector is None or not rows:
            return [(index.sentences.texts[r], 0.0) for r in rows]
        scores = similarities(index.sentences.vectors, rows, self.query_vector)
        return [(index.sentences.texts[r], float(s)) for r, s in zip(rows, scores)]


def identifiers_in(tokens: Sequence[str], text: str) -> list[str]:
    """The question's exact identifiers (numbers of three or more digits, years aside) that
    `text` contains."""
    folded = fold(text).lower()
    return [t for t in tokens if IDENTIFIER.fullmatch(t) and not YEAR.fullmatch(t) and t in folded]


def names_in(names: Sequence[str], text: str) -> list[str]:
    """The question's bridged names (Chinese forms) that `text` writes."""
    simplified = fold(text)
    return [name for name in names if fold(name) in simplified]


def _check_k(k: int) -> None:
    if k < 1:
        raise QueryError(f"k must be at least 1, not {k}")


class Searcher:
    """Loads the index and the model once; answers many queries."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 retrieval: RetrievalSettings | None = None, index: Index | None = None,
                 decision: Decision | None = None, judge: Judge | None = None):
        """`judge`: the reader as a judge of near misses (judge.py); None: scores alone decide."""
        self.settings = settings or Settings.from_env()
        self.judge = judge
        self.options = retrieval or RetrievalSettings()
        self.index: Index = index or open_store(self.settings).load()
        self.decision = decision or Decision.for_index(self.settings.index_dir)
        built_with = self.index.model
        if built_with.name != self.settings.model:
            raise IndexProblem(
                f"the index was built with model {built_with.name}, but the configured model is "
                f"{self.settings.model}; rebuild with `cqqa index` or set CQQA_MODEL={built_with.name}"
            )
        if embedder is None and self.options.mode != "lexical":
            from cqqa.models.factory import load_embedder

            embedder = load_embedder(self.settings)
        if embedder is not None and not embedder.identity.compatible_with(built_with):
            raise IndexProblem(
                "the index was built with different model weights than the ones installed; rebuild with `cqqa index`"
            )
        self.embedder = embedder

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(list(self.index.document_texts().values()), set(self.index.names.aliases),
                          self.index.names.sounds.lookup)

    @cached_property
    def folded_articles(self) -> dict[str, str]:
        """doc id -> the article folded and lower-cased, as unwritten_share compares terms."""
        return {doc: fold(text).lower() for doc, text in self.index.document_texts().items()}

    def plan(self, question: str, history: Sequence[str] = ()) -> QueryPlan:
        query = standalone_query(checked(question), history, self.index.names.subjects_in)
        names = self.index.names.expand(query) if self.options.bridge_names else []
        rewritten = self.index.names.rewrite(query) if self.options.bridge_names else query
        tokens = tokenize(rewritten)
        return QueryPlan(query, names, tokens, self.index.lexical.coverage(tokens), language(question))

    def search(self, question: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        """The passages for one question, asked after `history` (earlier user turns, oldest first)."""
        return self.retrieve(question, k, history).hits

    def retrieve(self, question: str, k: int = 5, history: Sequence[str] = (), judge: bool = True) -> Retrieval:
        return self.retrieve_many([(question, history)], k, judge=judge)[0]

    def retrieve_many(self, requests: Sequence[tuple[str, Sequence[str]]], k: int = 5,
                      batch_size: int = 32, judge: bool = True) -> list[Retrieval]:
        """retrieve() for many (question, history) pairs, embedding the queries in batches;
        `judge` False leaves the judging to the caller (judged(), e.g. outside a lock)."""
        _check_k(k)
        plans = [self.plan(question, history) for question, history in requests]
        results = []
        for at in range(0, len(plans), batch_size):
            batch = plans[at:at + batch_size]
            vectors = self.embedder.encode_queries([p.query for p in batch]) if self.embedder else None
            for i, plan in enumerate(batch):
                vector = None if vectors is None else vectors[i]
                roles = self._roles(plan)
                hits = self._rank(plan, vector, k, pinned=self._chunks_of(roles))
                absent = self.vocabulary.absent_terms(plan.query)
                signals = self._signals(plan, hits, absent, bool(roles) or self._asks_overview(plan))
                answerable = bool(hits) and self.decision.answerable(signals)
                texts = [self.index.sentences.texts[row] for row in roles]
                retrieval = Retrieval(plan, hits, answerable, absent, self.index, vector, texts, signals)
                results.append(self.judged(retrieval) if judge else retrieval)
        return results

    def judged(self, retrieval: Retrieval) -> Retrieval:
        """The retrieval with the judge's verdict, when a judge is set and the scores leave it unsure."""
        return self.judge.verdict(retrieval, self.decision) if self.judge else retrieval

    def _roles(self, plan: QueryPlan) -> list[int]:
        """Rows of the sentences giving the title of whom the question asks about (roles.py)."""
        if not self.options.subject_lookup:
            return []
        subjects = self.index.names.subjects_in(plan.query)
        return role_rows(plan.query, subjects, self.index.sentences.texts)[:MAX_ROLES]

    def _asks_overview(self, plan: QueryPlan) -> bool:
        """Whether the question asks what a person or organisation the articles write is, and
        nothing else ("What is Avatr?", roles.py): what they say about it answers."""
        return self.options.subject_lookup and bool(overview_subjects(plan.query, self.index.names))

    def _chunks_of(self, sentence_rows: list[int]) -> list[int]:
        """The first chunk (row) holding each sentence."""
        owner = self.index.sentences.owner
        return [int(owner[owner[:, 1] == row][0, 0]) for row in sentence_rows]

    def _signals(self, plan: QueryPlan, hits: list[Hit], absent_terms: list[str], lookup: bool) -> Signals:
        """What the decision reads (decision.py): the best passage's best sentence's similarity,
        the absent terms, a name or an identifier of the question that the passage writes."""
        top = hits[0] if hits else None
        score = None if top is None else top.best_sentence_score if top.best_sentence_score is not None \
            else top.dense_score
        years = [term for term in absent_terms if YEAR.fullmatch(term)]
        lang = language_family(plan.lang)
        unwritten = unwritten_share(plan.tokens, self.folded_articles.get(top.doc, "")) \
            if top is not None and lang == "zh" else None
        return Signals(lang, score, len(absent_terms) > len(years), bool(years),
                       bool(top and names_in(plan.names, top.text)), lookup,
                       bool(top and identifiers_in(plan.tokens, top.text)), unwritten)

    def _rank(self, plan: QueryPlan, query_vector: np.ndarray | None, k: int, pinned: Sequence[int] = ()) -> list[Hit]:
        """The k best chunks; `pinned` chunk rows first, in their order."""
        index, options = self.index, self.options
        pinned = np.asarray(pinned, dtype=np.int64)
        query_vector = None if query_vector is None else query_vector[None, :]
        n = len(index.chunks)
        lexical = index.lexical.scores(plan.tokens)
        best_sentence = np.full(n, -1, dtype=np.int64)
        sentence_score = np.full(n, -1.0, dtype=np.float32)
        if query_vector is None:  # lexical mode
            dense = np.zeros(n, dtype=np.float32)
            candidates = np.union1d(np.flatnonzero(lexical > 0), pinned).astype(np.int64)
        else:
            _, rows = index.vector_index.nearest(query_vector, options.candidates)
            candidates = np.union1d(rows[0][rows[0] >= 0], fusion.top_lexical(lexical, options.lexical_candidates))
            candidates = np.union1d(candidates, pinned).astype(np.int64)
            dense = np.full(n, -1.0, dtype=np.float32)
            dense[candidates] = similarities(index.vectors, candidates, query_vector[0])
            if options.sentence_level and len(index.sentences.texts):
                sentence_score[candidates], best_sentence[candidates] = index.sentences.best(query_vector[0],
                                                                                             candidates)
                has = candidates[best_sentence[candidates] >= 0]
                dense[has] = (1 - options.sentence_weight) * dense[has] + options.sentence_weight * sentence_score[has]
        if len(candidates) == 0:
            return []
        if options.mode == "dense":
            fused = dense
        elif options.mode == "lexical":
            fused = lexical
        elif options.mode == "rrf":
            fused = fusion.rrf(dense, lexical)
        else:
            fused = fusion.weighted(dense, lexical, plan.coverage, options.lexical_weight)
        order = candidates[np.argsort(-fused[candidates], kind="stable")]
        order = np.concatenate([pinned, order[~np.isin(order, pinned)]])[:k]
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
                page=chunk.page,
            ))
        return hits
