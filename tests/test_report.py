"""The evaluation report (`cqqa eval --report`, evaluation/report.py and report_page.py): its numbers
are the JSON's, its pictures agree with the metrics, a miss shows the decision's reason, and the
file asks nothing of the network. A real retrieval over a real index on disk built with the fake
embedder; in Chromium (filters, network log): test_report_browser below, browser tier."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest

from fakes import FakeEmbedder
from helpers import fake_corpus

from cqqa.evaluation import report, report_page
from cqqa.evaluation.evalset import EvalItem
from cqqa.evaluation.evaluate import METRICS, compare, evaluate
from cqqa.retrieve.decision import Decision, Thresholds
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.unit

ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "charging": "重庆充电站\n重庆今年新建了三十座超级充电站，覆盖主城各区。\n",
    "ai": "人工智能大会\n印奇表示，AI技术已经进入2.0时代。更大程度上AI是一个赋能者。\n",
}
ITEMS = [
    EvalItem("s1", "single", "长安汽车前三季度累计销量是多少？", ("累计销量为206.6万辆",), lang="zh-Hans", doc="sales"),
    EvalItem("s2", "single", "重庆新建了多少座超级充电站？", ("三十座超级充电站",), lang="zh-Hans", doc="charging"),
    EvalItem("s3", "single", "What did Yin Qi say about AI?", ("AI技术已经进入2.0时代",), lang="en", doc="ai"),
    EvalItem("s4", "single", "出口市场表现如何？", ("出口市场表现亮眼",), lang="zh-Hans", doc="sales"),
    EvalItem("u1", "unanswerable", "火星基地什么时候建成？", (), lang="zh-Hans"),
    EvalItem("u2", "unanswerable", "Who won the 1998 World Cup?", (), lang="en"),
]


def run(tmp_path, plain: float = 0.3):
    tmp_path.mkdir(parents=True, exist_ok=True)
    settings = fake_corpus(tmp_path, ARTICLES)
    decision = Decision({lang: Thresholds(plain, plain, plain) for lang in ("en", "zh")})
    searcher = Searcher(settings, embedder=FakeEmbedder(), decision=decision)
    result = evaluate(ITEMS, searcher, k=10).to_dict()
    ctx = {"date": "2026-12-05", "command": "cqqa eval --set test", "index_version": searcher.index.version}
    return result, report.retrieval_report(result, ctx, "test.jsonl")


def cells(page: str) -> dict[tuple[str, str], str]:
    return {(g, m): v for g, m, v in re.findall(r'data-group="([^"]+)" data-metric="([^"]+)">([^<]*)<', page)}


def test_the_report_s_figures_are_the_json_s(tmp_path):
    result, data = run(tmp_path)
    page = report_page.render(data)
    shown = cells(page)
    for metric in METRICS:
        assert shown[("all", metric)] == f"{result['metrics'][metric]:.3f}"
        for lang, values in result["by_lang"].items():
            assert shown[(lang, metric)] == f"{values[metric]:.3f}"
    embedded = json.loads(re.search(r'<script type="application/json" id="cqqa-data">(.*?)</script>', page, re.S)
                          .group(1).replace("<\\/", "</"))
    assert embedded["result"]["metrics"] == result["metrics"]
    u = result["unanswerable"]
    assert f'data-refused="unanswerable">{u["flagged"]}/{u["n"]}<' in page


def test_recall_curve_rank_counts_and_the_trade_off_at_zero_agree_with_the_metrics(tmp_path):
    result, data = run(tmp_path)
    for k in (1, 3, 5, 10):
        assert data["recall"]["all"][k - 1] == pytest.approx(result["metrics"][f"recall@{k}"], abs=1e-4)
    assert sum(data["ranks"].values()) == result["n"] and data["ranks"]["1"] == round(result["metrics"]["recall@1"]
                                                                                       * result["n"])
    at_zero = next(p for p in data["tradeoff"] if p["shift"] == 0)
    u = result["unanswerable"]
    assert at_zero["unanswerable_refused"] == pytest.approx(u["flagged"] / u["n"])
    assert at_zero["answerable_refused"] == pytest.approx(u["answerable_wrongly_flagged"] / result["n"])
    shares = [p["answerable_refused"] for p in data["tradeoff"]]
    assert shares == sorted(shares) and shares[-1] > shares[0]  # stricter thresholds refuse more


def test_a_miss_row_shows_the_decision_s_reason_and_links_to_the_article(tmp_path):
    result, data = run(tmp_path, plain=0.99)  # a bar nothing reaches: every answerable question is a wrong refusal
    page = report_page.render(data, server="http://127.0.0.1:7860")
    row = next(r for r in data["misses"] if r["id"] == "s1")
    assert row["why"] == "wrongly refused" and "not in the articles" in row["decision"]
    assert report_page.esc(row["decision"]) in page and "threshold 0.990" in row["decision"]
    assert 'href="http://127.0.0.1:7860/article/' in page and 'data-why="wrongly refused"' in page


def test_the_page_loads_nothing_from_anywhere(tmp_path):
    _, data = run(tmp_path)
    page = report_page.render(data)
    assert not re.search(r'(src|href)\s*=\s*"(?!#)', page)  # no script, image, style or font by address
    assert "url(" not in page and "@import" not in page and "default-src 'none'" in page


def test_compare_lists_the_questions_that_changed_and_draws_both_curves(tmp_path):
    a, _ = run(tmp_path / "a")
    b, _ = run(tmp_path / "b", plain=0.99)
    paths = []
    for name, result in (("a", a), ("b", b)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(result), encoding="utf-8")
    data = report.compare_report(compare(*paths), a, b, {"a": "a.json", "b": "b.json"})
    worse = {pair["b"]["id"] for pair in data["changed"]["worse"]}
    answered_in_a = {r["id"] for r in a["questions"] if r["answerable"] and not r["refused"]}
    refused_in_b = {r["id"] for r in b["questions"] if r["answerable"] and r["refused"]}
    assert answered_in_a & refused_in_b and answered_in_a & refused_in_b <= worse
    assert not data["changed"]["better"]
    assert set(data["tradeoffs"]) == {"A", "B"}
    page = report_page.render(data)
    assert f"Worse in B ({len(worse)})" in page and page.count("<polyline") >= 2


def test_answers_report_lists_wrong_refusals_with_the_reason(tmp_path):
    from cqqa.evaluation.answer_eval import evaluate_answers

    settings = fake_corpus(tmp_path, ARTICLES)
    decision = Decision({lang: Thresholds(0.99, 0.99, 0.99) for lang in ("en", "zh")})
    result = evaluate_answers(ITEMS, Searcher(settings, embedder=FakeEmbedder(), decision=decision))
    data = report.answers_report(result, {"date": "x"}, "test.jsonl")
    page = report_page.render(data)
    assert {r["why"] for r in data["misses"]} == {"wrongly refused"}
    assert cells(page)[("all", "answerable_refused")] == result["summary"]["all"]["answerable_refused"]
    assert all(report_page.esc(r["decision"]) in page for r in data["misses"])
    assert asdict(decision.thresholds["en"]) == result["decision"]["en"]


@pytest.mark.browser  # Debian's Chromium (conftest.py)
def test_in_chromium_the_report_opens_its_filters_work_and_it_requests_nothing(tmp_path, browser):
    _, data = run(tmp_path, plain=0.99)  # misses in both languages
    path = tmp_path / "report.html"
    report_page.write(path, report_page.render(data))
    context = browser.new_context()
    page = context.new_page()
    requested, errors = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri(), wait_until="load")
    total = len(data["misses"])
    assert page.inner_text("#shown") == str(total)
    page.select_option("#filter-lang", "en")
    english = sum(r["lang"] == "en" for r in data["misses"])
    assert 0 < english < total and page.inner_text("#shown") == str(english)
    visible = page.locator("#misses tbody tr:not([hidden])")
    assert visible.count() == english and all(t == "en" for t in visible.evaluate_all("rs => rs.map(r => r.dataset.lang)"))
    page.select_option("#filter-lang", "")
    assert page.inner_text("#shown") == str(total)
    assert page.locator("#tradeoff svg polyline").count() == 1 and page.locator("#recall svg").count() == 1
    assert requested == [path.as_uri()] and not errors  # the page itself, nothing else
    context.close()
