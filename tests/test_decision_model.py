"""The default refusal decision with the real model, on text nobody tuned it on: two XQuAD articles
(tests/data/xquad/) and English questions from xquad-dev. Questions about those articles are
answered, names written by sound included (Lady Gaga, 女神卡卡); questions about an article that
is not in the corpus (Luther, xquad_06) are refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cqqa.config import Settings
from cqqa.index.build import build_index
from cqqa.retrieve.decision import Decision
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.integration

ANSWERABLE = ["How many Grammys has Lady Gaga won?", "How many balls did Josh Norman intercept?",
              "What award has Marlee Matlin won?", "How many career sacks did Jared Allen have?"]
NOT_HERE = ["What did Luther call the mass instead of sacrifice?",
            "What did Luther tell monks and nuns about their vows?",
            "What caused Luther to write hymns?"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("xquad")
    settings = dataclasses.replace(Settings(), source_dir=Path(__file__).parent / "data" / "xquad",
                                   index_dir=root / "index")
    build_index(settings, embedder_factory=lambda: embedder)
    return Searcher(settings, embedder=embedder)


def test_the_index_has_no_calibration_of_its_own_so_the_default_decides(searcher):
    assert searcher.decision == Decision.default()


@pytest.mark.parametrize("question", ANSWERABLE)
def test_questions_about_the_articles_are_answered(searcher, question):
    retrieval = searcher.retrieve(question, k=3)
    assert retrieval.answerable, searcher.decision.explain(retrieval.signals)
    assert retrieval.hits[0].doc == "xquad_00"


def test_a_name_written_by_sound_anchors_the_answer(searcher):
    retrieval = searcher.retrieve("How many Grammys has Lady Gaga won?", k=3)
    assert "卡卡" in retrieval.plan.names and retrieval.signals.anchored
    assert retrieval.absent_terms == []


@pytest.mark.parametrize("question", NOT_HERE)
def test_questions_about_an_article_not_in_the_corpus_are_refused(searcher, question):
    retrieval = searcher.retrieve(question, k=3)
    assert not retrieval.answerable, searcher.decision.explain(retrieval.signals)
