"""Search the index: a query in, ranked passages with their original spans out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from cqqa.config import Settings
from cqqa.errors import IndexProblem, QueryError
from cqqa.followup import standalone_query
from cqqa.index import Index, load_index

MAX_QUERY_CHARS = 1000


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

    def to_dict(self) -> dict:
        return asdict(self)


def check_query(query: str) -> str:
    query = (query or "").strip()
    if not query:
        raise QueryError("the query is empty; ask a question, e.g. cqqa search \"what did Yin Qi say about AI 2.0\"")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}: ask a shorter question")
    return query


class Searcher:
    """Loads the index and the model once; answers many queries."""

    def __init__(self, settings: Settings | None = None, *, index_dir: Path | None = None, embedder=None):
        self.settings = settings or Settings.from_env()
        self.index: Index = load_index(index_dir or self.settings.index_dir)
        built_with = self.index.model
        if built_with.name != self.settings.model:
            raise IndexProblem(
                f"the index was built with model {built_with.name}, but the configured model is "
                f"{self.settings.model}; rebuild with `cqqa index` or set CQQA_MODEL={built_with.name}"
            )
        if embedder is None:
            from cqqa.embedding import Embedder

            embedder = Embedder(self.settings.model, self.settings.dtype)
        if not embedder.identity.compatible_with(built_with):
            raise IndexProblem(
                "the index was built with different model weights than the ones installed; rebuild with `cqqa index`"
            )
        self.embedder = embedder

    def search(self, query: str, k: int = 5, history: Sequence[str] = ()) -> list[Hit]:
        """Passages for one question, asked after `history` (earlier user turns, oldest first)."""
        return self.search_many([(query, history)], k)[0]

    def search_many(self, requests: Sequence[tuple[str, Sequence[str]]], k: int = 5,
                    batch_size: int = 32) -> list[list[Hit]]:
        """The same as search() for many (question, history) pairs, embedding them in batches."""
        if k < 1:
            raise QueryError(f"k must be at least 1, not {k}")
        queries = [standalone_query(check_query(question), history) for question, history in requests]
        results = []
        for at in range(0, len(queries), batch_size):
            scores, rows = self.index.search(self.embedder.encode_queries(queries[at:at + batch_size]), k)
            results.extend(self._hits(s, r) for s, r in zip(scores, rows))
        return results

    def _hits(self, scores, rows) -> list[Hit]:
        hits = []
        for score, row in zip(scores, rows):
            if row < 0:
                continue
            chunk = self.index.chunks[row]
            hits.append(Hit(len(hits) + 1, chunk.chunk_id, chunk.doc_id, chunk.title, chunk.heading, chunk.text,
                            chunk.start, chunk.end, float(score)))
        return hits
