"""Combining the dense and the lexical lists.

`weighted` is the product's fusion: dense cosine plus the lexical score (BM25
divided by the best BM25 of the query, so in [0, 1]) times a weight that grows
with the query's lexical coverage — the share of its tokens found in the corpus.
An English question whose words never occur in the Chinese text gets weight ~0
and keeps its dense ranking; a Chinese question gets the full weight. A naive
equal-weight fusion (`rrf`) cannot tell these apart and is kept for comparison.
"""

from __future__ import annotations

import numpy as np

RRF_K = 60


def weighted(dense: np.ndarray, lexical: np.ndarray, coverage: float, max_weight: float) -> np.ndarray:
    top = float(lexical.max()) if lexical.size else 0.0
    if top <= 0:
        return dense.copy()
    return dense + max_weight * coverage * (lexical / top)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each entry (1 = highest score)."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.int64)
    out[order] = np.arange(1, len(scores) + 1)
    return out


def rank_of(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """1-based rank of the given rows among all scores, without sorting everything."""
    return 1 + (scores[None, :] > scores[rows][:, None]).sum(axis=1)


def rrf(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    lexical_ranks = ranks(lexical).astype(np.float64)
    lexical_ranks[lexical <= 0] = np.inf  # a chunk sharing no token is not in the lexical list
    return 1.0 / (RRF_K + ranks(dense)) + 1.0 / (RRF_K + lexical_ranks)


def top_lexical(lexical: np.ndarray, limit: int) -> np.ndarray:
    """Rows with a lexical match; only the `limit` best (ties at the cut included) when limit > 0.
    At 100,000 chunks a question's common words match tens of thousands of chunks, and scoring
    every one's sentences made a search take seconds (eval/bench_serve_scale.py)."""
    matched = np.flatnonzero(lexical > 0)
    if limit <= 0 or len(matched) <= limit:
        return matched
    cut = np.partition(lexical[matched], len(matched) - limit)[len(matched) - limit]
    return matched[lexical[matched] >= cut]
