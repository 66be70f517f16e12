"""Fitting the refusal decision (evaluation/calibrate.py) and the held-out construction
(evaluation/holdout.py); the whole `cqqa calibrate --hold-out` path on the fake embedder."""

from __future__ import annotations

import dataclasses

import pytest

from cqqa.config import Settings
from cqqa.errors import CqqaError
from cqqa.evaluation import calibrate
from cqqa.evaluation.evalset import EvalItem
from cqqa.evaluation.holdout import held_out_docs, hold_out, near_misses
from cqqa.index.build import build_index
from cqqa.retrieve.decision import Decision, Signals
from cqqa.retrieve.search import Searcher
from fakes import FakeEmbedder

pytestmark = pytest.mark.unit

BASE = Decision.uniform(0.5, 0.6, 0.4)


def rows(lang: str, answerable: list[float], unanswerable: list[float]) -> calibrate.Labelled:
    make = lambda score: Signals(lang, score, False, False, False, False)  # noqa: E731
    return [(True, make(s)) for s in answerable] + [(False, make(s)) for s in unanswerable]


def test_the_fit_refuses_unanswerable_questions_up_to_the_allowed_answerable_ones():
    answerable = [0.30 + i * 0.004 for i in range(100)]  # 0.300 … 0.696
    unanswerable = [0.10, 0.15, 0.20, 0.25, 0.303, 0.35]
    fitted = calibrate.fit({"set": rows("en", answerable, unanswerable)}, BASE, max_refused=0.02)
    t = fitted.thresholds["en"]
    assert t.plain == 0.305  # refuses 0.300 and 0.304 (2 of 100) to refuse 0.303; 0.35 would cost 13
    assert fitted.measured["set en"] == {"answerable_refused": "2/100", "unanswerable_refused": "5/6"}
    assert fitted.thresholds["zh"] == BASE.thresholds["zh"]  # nothing in Chinese to fit on
    assert "kept the base thresholds for zh" in fitted.fitted_on


def test_the_threshold_sits_in_the_middle_of_the_gap():
    fitted = calibrate.fit({"set": rows("zh", [0.60, 0.65, 0.70], [0.20, 0.30])}, BASE, max_refused=0.0)
    assert 0.43 <= fitted.thresholds["zh"].plain <= 0.47  # between 0.30 and 0.60, not at either edge


def test_every_corpus_keeps_its_own_limit():
    loose = rows("en", [0.30, 0.31] + [0.6] * 48, [0.2, 0.32])  # 50 answerable: 1 may be refused
    strict = rows("en", [0.33] + [0.6] * 9, [0.1])  # 10 answerable: none may be refused
    fitted = calibrate.fit({"loose": loose, "strict": strict}, BASE, max_refused=0.02)
    assert fitted.thresholds["en"].plain <= 0.33
    assert fitted.measured["strict en"]["answerable_refused"] == "0/10"


def test_the_fit_raises_the_bar_by_unwritten_terms_when_that_refuses_more_near_misses():
    """Near misses score like answerable questions, but their article never writes most of their
    terms: only a slope on the unwritten share separates them."""
    make = lambda score, unwritten: Signals("zh", score, False, False, False, False, unwritten=unwritten)  # noqa: E731
    answerable = [(True, make(0.40 + i * 0.005, 0.0 if i % 2 else 0.25)) for i in range(50)]
    near = [(False, make(0.45 + i * 0.01, 0.75)) for i in range(10)]
    fitted = calibrate.fit({"set": answerable + near}, BASE, max_refused=0.0)
    t = fitted.thresholds["zh"]
    assert t.per_unwritten > 0 and fitted.measured["set zh"] == {"answerable_refused": "0/50",
                                                                  "unanswerable_refused": "10/10"}
    flat = calibrate.fit({"set": rows("zh", [0.6, 0.7], [0.2])}, BASE, max_refused=0.0)
    assert flat.thresholds["zh"].per_unwritten == 0.0  # nothing to gain: the smallest slope


def test_signals_survive_a_file_and_a_broken_line_is_reported(tmp_path):
    data = rows("en", [0.5], [0.2])
    calibrate.save_signals(data, tmp_path / "s.jsonl")
    assert calibrate.load_signals(tmp_path / "s.jsonl") == data
    (tmp_path / "bad.jsonl").write_text('{"answerable": true, "lang": "en"}\n', encoding="utf-8")
    with pytest.raises(CqqaError, match="line 1"):
        calibrate.load_signals(tmp_path / "bad.jsonl")


def test_held_out_articles_are_spread_and_must_leave_some():
    assert held_out_docs([f"d{i:02}" for i in range(24)], 4) == ["d03", "d09", "d15", "d21"]
    with pytest.raises(CqqaError, match="between 1 and 2"):
        held_out_docs(["a", "b", "c"], 3)


ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从1.0时代向2.0时代的跃迁。他认为汽车是AI最好的载体。\n",
    "hydrogen": "氢能重卡\n两江新区的氢能重卡示范线于今年投入运营，首批投放一百二十辆氢燃料电池重卡。\n",
}
ITEMS = [EvalItem("q1", "single", "长安汽车前三季度累计销量是多少？", ("累计销量为206.6万辆",), doc="sales"),
         EvalItem("q2", "single", "印奇认为AI最好的载体是什么？", ("汽车是AI最好的载体",), doc="ai"),
         EvalItem("q3", "single", "氢能重卡示范线投放了多少辆？", ("首批投放一百二十辆",), doc="hydrogen")]


def test_a_held_out_construction_makes_its_questions_unanswerable_and_they_are_refused(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name, text in ARTICLES.items():
        (source / f"{name}.txt").write_text(text, encoding="utf-8")
    items, removed = hold_out(ITEMS, source, tmp_path / "held", 1)
    assert removed == ["hydrogen"] and sorted(p.stem for p in (tmp_path / "held").iterdir()) == ["ai", "sales"]
    assert [i.answerable for i in items] == [True, True, False] and items[2].evidence == ()
    assert (source / "hydrogen.txt").exists(), "the user's corpus is never touched"
    settings = dataclasses.replace(Settings(), source_dir=tmp_path / "held", index_dir=tmp_path / "idx",
                                   model=FakeEmbedder.identity.name)
    build_index(settings, embedder_factory=FakeEmbedder)
    labelled = calibrate.collect(items, Searcher(settings, embedder=FakeEmbedder(), decision=BASE))
    fitted = calibrate.fit({"held": labelled}, BASE, max_refused=0.0)
    decided = [fitted.answerable(s) for _, s in labelled]
    assert decided == [True, True, False]


@pytest.mark.integration
def test_calibrate_without_a_set_or_with_signals_but_no_out_is_a_one_line_error(tmp_path):
    import subprocess

    from helpers import CQQA

    proc = subprocess.run([CQQA, "calibrate"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "give an evaluation file with --set FILE" in proc.stderr
    calibrate.save_signals(rows("en", [0.5], [0.2]), tmp_path / "s.jsonl")
    proc = subprocess.run([CQQA, "calibrate", "--signals", str(tmp_path / "s.jsonl")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "--signals needs --out" in proc.stderr
    out = tmp_path / "d.json"
    proc = subprocess.run([CQQA, "calibrate", "--signals", str(tmp_path / "s.jsonl"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert Decision.load(out).measured == {"s en": {"answerable_refused": "0/1", "unanswerable_refused": "1/1"}}


def test_near_misses_remove_one_paragraph_and_relabel_only_what_it_answered(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("长安汽车\n\n长安汽车前三季度累计销量为206.6万辆。\n\n长安汽车总部在重庆。\n\n"
                                  "新能源车型占三成。\n", encoding="utf-8")
    (source / "b.txt").write_text("赛力斯\n\n赛力斯去年交付了四十万辆车，总部在重庆。\n\n问界M8的售价是三十万元，由重庆的赛力斯生产。\n",
                                  encoding="utf-8")
    (source / "c.txt").write_text("一段\n\n只有一段的文章不动。\n", encoding="utf-8")
    items = [EvalItem("sales", "single", "长安汽车前三季度销量是多少？", ("累计销量为206.6万辆",), doc="a"),
             EvalItem("home", "single", "长安汽车总部在哪里？", ("总部在重庆",), doc="a"),
             EvalItem("m8", "single", "问界M8多少钱？", ("售价是三十万元",), doc="b"),
             EvalItem("made", "single", "问界M8在哪里生产？", ("由重庆的赛力斯生产",), doc="b",
                      extra={"answer_zh": "重庆"}),  # its paragraph goes, but 重庆 is still written in b: dropped
             EvalItem("seres", "single", "赛力斯总部在哪？", ("总部在重庆",), doc="b"),
             EvalItem("one", "single", "这篇文章怎样？", ("只有一段",), doc="c")]
    made, removed = near_misses(items, source, tmp_path / "nm")
    # article i in sorted order loses paragraph i % count: a its first, b its second, c (one paragraph) none
    assert removed == {"a": 0, "b": 1}
    assert (tmp_path / "nm" / "a.txt").read_text(encoding="utf-8") == "长安汽车\n\n长安汽车总部在重庆。\n\n新能源车型占三成。\n"
    assert (tmp_path / "nm" / "c.txt").read_text(encoding="utf-8") == (source / "c.txt").read_text(encoding="utf-8")
    assert [(i.id, i.kind) for i in made] == [("sales", "unanswerable"), ("home", "single"), ("m8", "unanswerable"),
                                              ("seres", "single"), ("one", "single")]
    assert made[0].evidence == () and made[1].evidence == ("总部在重庆",)
    assert (source / "a.txt").read_text(encoding="utf-8").count("\n\n") == 3, "the user's corpus is never touched"


def test_a_one_paragraph_article_is_cut_into_parts_for_near_misses(tmp_path):
    """CMRC 2018 writes each article as one paragraph: it is cut at sentence ends into three
    parts, one of which goes, so its questions can be near misses too."""
    from cqqa.evaluation.holdout import parts

    paragraph = "甲公司成立于一九九零年。甲公司总部在重庆。甲公司去年卖了十万辆车。甲公司的董事长是张三。甲公司有五千名员工。甲公司明年上市。"
    cut = parts(paragraph)
    assert len(cut) == 3 and "".join(cut) == paragraph and all(p.endswith("。") for p in cut)
    assert parts("只有一句。") == ["只有一句。"]
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("甲公司\n\n" + paragraph + "\n", encoding="utf-8")
    items = [EvalItem("founded", "single", "甲公司哪年成立？", ("成立于一九九零年",), doc="a"),
             EvalItem("listing", "single", "甲公司何时上市？", ("明年上市",), doc="a")]
    made, removed = near_misses(items, source, tmp_path / "nm")
    assert removed == {"a": 0}  # the first article in sorted order loses its first part
    left = (tmp_path / "nm" / "a.txt").read_text(encoding="utf-8")
    assert left.startswith("甲公司\n\n") and "成立于" not in left and "明年上市" in left
    assert [(i.id, i.kind) for i in made] == [("founded", "unanswerable"), ("listing", "single")]
