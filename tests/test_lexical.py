import pytest
import numpy as np

from cqqa.index.lexical import LexicalIndex, tokenize

pytestmark = pytest.mark.unit


def test_numbers_stay_whole_and_units_join_them():
    tokens = tokenize("長安汽車累計銷量為206.6萬輛,同比增長8.46%")
    assert {"206.6万", "206.6", "8.46%", "长安汽车", "销量"} <= set(tokens)


def test_traditional_is_folded_and_latin_lowercased():
    assert tokenize("問界M8") == tokenize("问界m8")
    assert "ai" in tokenize("AI技术") and "2.0" in tokenize("AI 2.0时代")


def test_stop_words_and_punctuation_are_dropped():
    tokens = tokenize("what did he say about the 2.0 时代？他的说法是什么？")
    assert not {"what", "did", "the", "？", "的", "什么", "他"} & set(tokens)
    assert "2.0" in tokens and "时代" in tokens


def test_bm25_scores_and_coverage(tmp_path):
    index = LexicalIndex.build(["重庆汽车产量165.9万辆", "超充站2000座以上", "華為引望10%的股權"])
    scores = index.scores(tokenize("华为引望股权"))
    assert scores.argmax() == 2 and scores[0] == 0
    assert index.coverage(tokenize("超充站")) == 1.0
    assert index.coverage(tokenize("super charging stations")) == 0.0
    assert not index.scores(tokenize("nothing matches")).any()
    index.save(tmp_path / "bm25")
    again = LexicalIndex.load(tmp_path / "bm25")
    assert np.allclose(again.scores(tokenize("华为引望股权")), scores)
