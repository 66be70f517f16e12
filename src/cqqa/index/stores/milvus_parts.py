"""The pieces of an index version that stay in Milvus and are asked per query, behind the same
calls as the local ones (version.Index): `vectors[rows]` (VectorRows), `vector_index.nearest`
(EngineVectors) and `lexical.scores` / `coverage` (EngineLexical); and how the project's lexical
tokens are written for Milvus's BM25 (engine_tokens).

Milvus Lite's analyzers offer only the "standard" and "jieba" tokenizers (no "whitespace"), so each
of the project's own tokens (lexical.tokenize: jieba search mode, Traditional folded to Simplified,
numbers kept whole) is written as one ASCII word, a hash the standard tokenizer keeps whole: BM25
then counts exactly the local index's tokens, locally and on a Milvus cluster alike.
"""

from __future__ import annotations

import hashlib

import numpy as np

BATCH = 1000  # rows per query: `row in [...]` filters stay short
LEXICAL_LIMIT = 1000  # BM25 matches asked per query (the searcher keeps the best 300, RetrievalSettings)
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults: the same ranking as the local index


def engine_token(token: str) -> str:
    return "t" + hashlib.blake2b(token.encode("utf-8"), digest_size=8).hexdigest()


def engine_tokens(tokens: list[str]) -> str:
    """The text Milvus's BM25 analyses for these tokens: one ASCII word each."""
    return " ".join(map(engine_token, tokens))


def rows_filter(rows) -> str:
    return f"row in [{','.join(str(int(r)) for r in rows)}]"


class VectorRows:
    """`vectors[rows]`: the stored vectors of these rows (any order, repeats allowed), fetched
    from the engine, so the serving process does not hold them."""

    def __init__(self, client, collection: str, size: int, dim: int):
        self.client, self.collection, self.size, self.dim = client, collection, size, dim

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        unique, inverse = np.unique(rows, return_inverse=True)
        out = np.zeros((len(unique), self.dim), dtype=np.float32)
        at = {int(r): i for i, r in enumerate(unique)}
        for start in range(0, len(unique), BATCH):
            batch = unique[start:start + BATCH]
            for hit in self.client.query(self.collection, filter=rows_filter(batch), output_fields=["row", "vector"],
                                         limit=len(batch)):
                out[at[int(hit["row"])]] = hit["vector"]
        return out[inverse]

    def similarities(self, rows, query_vector: np.ndarray) -> np.ndarray:
        """Inner products of these rows' vectors with the query, computed by the engine (a search
        restricted to the rows): the scores travel, not the vectors. Rows the search leaves out
        (an approximate index may) are fetched and scored here."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        unique, inverse = np.unique(rows, return_inverse=True)
        scores = np.full(len(unique), np.nan, dtype=np.float32)
        at = {int(r): i for i, r in enumerate(unique)}
        query = [float(x) for x in query_vector]
        for start in range(0, len(unique), BATCH):
            batch = unique[start:start + BATCH]
            found = self.client.search(self.collection, data=[query], anns_field="vector", filter=rows_filter(batch),
                                       limit=len(batch), search_params={"metric_type": "IP"}, output_fields=["row"])
            for hit in found[0]:
                scores[at[int(hit["entity"]["row"])]] = hit["distance"]
        missing = np.flatnonzero(np.isnan(scores))
        if len(missing):
            scores[missing] = self[unique[missing]] @ query_vector
        return scores[inverse]


class EngineVectors:
    """The nearest-neighbour search (vector_index.VectorIndex's `nearest`), run by the engine."""

    def __init__(self, client, collection: str, size: int, kind: str):
        self.client, self.collection, self.size = client, collection, size
        self.params = {"metric_type": "IP", "params": {"ef": 128} if kind == "hnsw" else {}}

    def nearest(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        sims = np.zeros((len(query_vectors), k), dtype=np.float32)
        rows = np.full((len(query_vectors), k), -1, dtype=np.int64)
        if k == 0:
            return sims, rows
        found = self.client.search(self.collection, data=[list(map(float, q)) for q in query_vectors],
                                   anns_field="vector", limit=k, search_params=self.params, output_fields=["row"])
        for i, hits in enumerate(found):
            for j, hit in enumerate(hits):
                sims[i, j], rows[i, j] = hit["distance"], hit["entity"]["row"]
        return sims, rows


class EngineLexical:
    """BM25 in the engine over the project's tokens (lexical.LexicalIndex's `scores`, `coverage`)."""

    def __init__(self, client, collection: str, size: int, vocabulary: set[str]):
        self.client, self.collection, self.size, self.vocab = client, collection, size, vocabulary

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 of the best LEXICAL_LIMIT chunks (0 for the rest). Milvus scales BM25 by (k1 + 1)
        against bm25s; the fusion divides by the best score, so the ranking and the fused scores
        are the same."""
        out = np.zeros(self.size, dtype=np.float32)
        known = [t for t in tokens if t in self.vocab]
        if not known:
            return out
        found = self.client.search(self.collection, data=[engine_tokens(known)], anns_field="sparse",
                                   limit=min(LEXICAL_LIMIT, self.size), output_fields=["row"])
        for hit in found[0]:
            out[hit["entity"]["row"]] = abs(hit["distance"])  # Milvus Lite reports BM25 negated
        return out

    def coverage(self, tokens: list[str]) -> float:
        from cqqa.index.lexical import coverage

        return coverage(tokens, self.vocab)
