"""Retrieval's decisions on a tiny corpus with the fake embedder (tests/fakes.py): what the
Retrieval object carries, fusion by coverage, "not in the articles", and the build's reuse.
Unit tier (no model, no process): `make test-fast` runs these."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cqqa.index.build import build_index
from cqqa.config import RetrievalSettings
from cqqa.index.stores.local import load_index
from cqqa.retrieve.decision import Decision
from cqqa.retrieve.search import Searcher
from fakes import FakeEmbedder
from helpers import fake_corpus

pytestmark = pytest.mark.unit

ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从1.0时代向2.0时代的跃迁。他认为汽车是AI最好的载体。\n",
    "hydrogen": "氢能重卡\n两江新区的氢能重卡示范线于今年投入运营，首批投放一百二十辆氢燃料电池重卡。\n",
}


@pytest.fixture(scope="module")
def fake_settings(tmp_path_factory):
    return fake_corpus(tmp_path_factory.mktemp("fake"), ARTICLES)


def searcher(settings, decision: Decision | None = None, **options) -> Searcher:
    return Searcher(settings, embedder=FakeEmbedder(), retrieval=RetrievalSettings(**options), decision=decision)


def test_a_retrieval_carries_hits_decision_and_sentence_scores(fake_settings):
    retrieval = searcher(fake_settings).retrieve("长安汽车前三季度累计销量是多少？", k=2)
    assert retrieval.hits[0].doc == "sales" and retrieval.answerable and retrieval.absent_terms == []
    assert retrieval.index_version == load_index(fake_settings.index_dir).version
    sentences = retrieval.sentence_scores(retrieval.hits[0])  # reading order, each with its similarity
    assert [text for text, _ in sentences][-1] == "出口市场表现亮眼。"
    best = max(sentences, key=lambda s: s[1])
    assert "累计销量为206.6万辆" in best[0] and best[0] == retrieval.hits[0].best_sentence


def test_a_question_far_from_every_sentence_is_not_answerable(fake_settings):
    retrieval = searcher(fake_settings).retrieve("明天北京的天气怎么样？", k=2)
    assert retrieval.answerable is False


def test_an_absent_noun_flags_a_question_that_only_loosely_matches(fake_settings):
    question = "长安汽车的净利润是多少？"  # 长安汽车 is there, 净利润 is not
    retrieval = searcher(fake_settings, Decision.uniform(0.1, 0.55)).retrieve(question, k=2)
    assert retrieval.absent_terms == ["净利润"]
    assert retrieval.answerable is False
    close_enough = searcher(fake_settings, Decision.uniform(0.1, 0.1))
    assert close_enough.retrieve(question, k=2).answerable is True, "a close enough sentence outweighs it"


def test_the_thresholds_are_the_decisions(fake_settings):
    question = "印奇说AI到了哪个时代？"
    assert searcher(fake_settings, Decision.uniform(0.0)).retrieve(question, k=1).answerable is True
    assert searcher(fake_settings, Decision.uniform(0.99)).retrieve(question, k=1).answerable is False


def test_lexical_mode_ranks_by_bm25_and_has_no_calibrated_refusal(fake_settings):
    retrieval = Searcher(fake_settings, retrieval=RetrievalSettings(mode="lexical")).retrieve("氢能重卡示范线", k=3)
    assert retrieval.hits[0].doc == "hydrogen" and retrieval.hits[0].dense_score is None
    assert retrieval.answerable is True


def test_an_unknown_mode_is_a_one_line_error():
    from cqqa.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown retrieval mode 'fancy'"):
        RetrievalSettings(mode="fancy")


def test_an_edit_embeds_only_the_changed_texts(fake_settings, tmp_path):
    import shutil

    settings = dataclasses.replace(fake_settings, source_dir=tmp_path / "src", index_dir=tmp_path / "idx")
    shutil.copytree(fake_settings.source_dir, settings.source_dir)
    shutil.copytree(fake_settings.index_dir, settings.index_dir)
    path = settings.source_dir / "hydrogen.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("一百二十辆", "两百辆"), encoding="utf-8")
    embedder = FakeEmbedder()
    report = build_index(settings, embedder_factory=lambda: embedder)
    assert report.changed == ["hydrogen"] and report.embedded_chunks == 1 and report.embedded_sentences == 1
    assert embedder.calls == [2]


def test_the_answers_evaluation_scores_quotes_and_refusals(fake_settings):
    from cqqa.evaluation.answer_eval import evaluate_answers, format_answers
    from cqqa.evaluation.evalset import EvalItem

    items = [EvalItem("hit", "single", "长安汽车前三季度累计销量是多少？", ("累计销量为206.6万辆",), lang="zh-Hans"),
             EvalItem("miss", "single", "长安汽车前三季度累计销量是多少？", ("出口市场表现亮眼",), lang="zh-Hans"),
             EvalItem("none", "unanswerable", "明天北京的天气怎么样？", (), lang="zh-Hans")]
    result = evaluate_answers(items, searcher(fake_settings))
    rows = {r["id"]: r for r in result["rows"]}
    assert rows["hit"]["quote_has_evidence"] and rows["hit"]["cited_has_evidence"]
    assert not rows["miss"]["quote_has_evidence"] and rows["miss"]["cited_has_evidence"], "cited, not quoted"
    assert rows["none"]["refused"] and not rows["hit"]["refused"]
    summary = result["summary"]["all"]
    assert (summary["quote_has_evidence"], summary["quote_has_evidence_when_cited"]) == (0.5, 0.5)
    assert summary["unanswerable_refused"] == "1/1" and summary["answerable_refused"] == "0/2"
    assert rows["hit"]["quote_chars"] > len("累计销量为206.6万辆") and rows["none"]["quote_chars"] == 0
    assert summary["quote_chars_p50"] == rows["hit"]["quote_chars"], "the median over the answers given"
    assert "quote∋evid" in format_answers(result) and "quoted chars" in format_answers(result)


def test_lexical_candidates_keep_the_best_matches_and_ties_at_the_cut():
    from cqqa.retrieve.fusion import top_lexical

    scores = np.array([0.0, 3.0, 1.0, 0.0, 5.0, 3.0, 2.0])
    assert top_lexical(scores, 0).tolist() == [1, 2, 4, 5, 6]      # 0: every match
    assert top_lexical(scores, 2).tolist() == [1, 4, 5]            # 5, then both 3s (tied at the cut)
    assert top_lexical(scores, 4).tolist() == [1, 4, 5, 6]
    assert top_lexical(scores, 99).tolist() == [1, 2, 4, 5, 6]
    assert top_lexical(np.zeros(4), 2).tolist() == []


def test_the_decision_language_is_the_askers_not_the_rewritten_querys(fake_settings):
    """A follow-up's query carries the conversation's Chinese names ("... 印奇"); an English question
    is still judged by the English thresholds (it was judged as Chinese, and answered, in the chat)."""
    retrieval = searcher(fake_settings).retrieve("And what did he say about cars?", k=2, history=["印奇谈人工智能说了什么？"])
    assert "印奇" in retrieval.plan.query
    assert retrieval.plan.lang == "en" and retrieval.signals.lang == "en"
