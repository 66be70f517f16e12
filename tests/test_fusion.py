import pytest
import numpy as np

from cqqa.retrieve.fusion import rank_of, ranks, rrf, weighted

pytestmark = pytest.mark.unit


def test_no_lexical_signal_keeps_the_dense_order():
    dense = np.array([0.2, 0.5, 0.4])
    lexical = np.array([9.0, 0.0, 1.0])
    assert np.array_equal(weighted(dense, lexical, coverage=0.0, max_weight=0.3), dense)
    assert np.array_equal(weighted(dense, np.zeros(3), coverage=1.0, max_weight=0.3), dense)


def test_full_coverage_lets_a_strong_exact_match_win():
    dense = np.array([0.40, 0.45])
    lexical = np.array([10.0, 1.0])
    fused = weighted(dense, lexical, coverage=1.0, max_weight=0.2)
    assert fused.argmax() == 0 and np.isclose(fused[0], 0.6)


def test_ranks_and_rrf():
    assert ranks(np.array([0.1, 0.9, 0.5])).tolist() == [3, 1, 2]
    fused = rrf(np.array([0.9, 0.1]), np.array([0.0, 3.0]))
    # chunk 0: dense rank 1, no lexical match; chunk 1: dense rank 2, lexical rank 1
    assert np.isclose(fused[0], 1 / 61) and np.isclose(fused[1], 1 / 62 + 1 / 61)


def test_rank_of_matches_a_full_sort():
    scores = np.array([0.3, 0.9, 0.1, 0.5, 0.7])
    rows = np.array([4, 2, 1])
    assert rank_of(scores, rows).tolist() == ranks(scores)[rows].tolist() == [2, 5, 1]
