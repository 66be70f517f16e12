"""`cqqa eval` end to end with the real model, and the scoring logic on small fixtures."""

import json

import pytest

from cqqa.ingest.chunking import Chunk
from cqqa.evaluation.evalset import EvalItem
from cqqa.evaluation.evaluate import evaluate, relevant_chunks

from helpers import ROOT
from test_cli import run

pytestmark = pytest.mark.unit

SET = ROOT / "eval" / "cqqa-eval.jsonl"


def _chunk(cid, text):
    return Chunk(cid, "d", 0, "t", "", text, 0, len(text))


def test_relevance_ignores_whitespace_and_script():
    chunks = [_chunk("a", "長安汽車累計銷量為206.6萬輛"), _chunk("b", "无关的文字")]
    item = EvalItem("q", "single", "?", ("长安汽车累计销量 为206.6万辆",))
    assert relevant_chunks([item], chunks) == {"q": {"a"}}


class FixedSearcher:
    """Returns given rankings, answerable unless the ranking is empty: exercises the scoring,
    not retrieval."""

    embedder = None  # nothing to embed

    def __init__(self, chunks, ranking):
        from cqqa.retrieve.decision import Decision

        self.index = type("I", (), {"chunks": chunks})()
        self.ranking = ranking
        self.decision = Decision.default()

    def retrieve(self, question, k, history=()):
        return self.retrieve_many([(question, history)], k)[0]

    def retrieve_many(self, requests, k):
        from cqqa.retrieve.search import Hit, Retrieval

        by_id = {c.chunk_id: c for c in self.index.chunks}
        out = []
        for q, _ in requests:
            hits = [Hit(r + 1, cid, "d", "t", "", by_id[cid].text, 0, 1, 1.0 / (r + 1))
                    for r, cid in enumerate(self.ranking[q])]
            out.append(Retrieval(None, hits, answerable=bool(hits), absent_terms=[]))
        return out


def test_metrics_on_a_known_ranking():
    chunks = [_chunk("a", "甲甲"), _chunk("b", "乙乙"), _chunk("c", "丙丙")]
    items = [EvalItem("first", "single", "q1", ("甲",), lang="en"),
             EvalItem("second", "single", "q2", ("乙",), lang="zh-Hans"),
             EvalItem("missing", "single", "q3", ("丁",), lang="en"),
             EvalItem("none", "unanswerable", "q4", ())]
    ranking = {"q1": ["a", "b", "c"], "q2": ["a", "c", "b"], "q3": ["a", "b", "c"], "q4": []}
    result = evaluate(items, FixedSearcher(chunks, ranking), k=3)
    assert result.n == 3
    assert result.per_query["first"]["recall@1"] == 1.0 and result.per_query["first"]["mrr@10"] == 1.0
    assert result.per_query["second"]["recall@1"] == 0.0 and result.per_query["second"]["recall@3"] == 1.0
    assert result.per_query["second"]["mrr@10"] == pytest.approx(1 / 3)
    assert result.per_query["missing"]["recall@10"] == 0.0 and result.unreachable == ["missing"]
    assert result.metrics["recall@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert result.by_lang["en"]["n"] == 2 and result.by_lang["zh-Hans"]["recall@1"] == 0.0
    assert result.unanswerable == {"n": 1, "flagged": 1, "answerable_wrongly_flagged": 0, "flagged_by_lang": {"unknown": "1/1"},
                                   "answerable_wrongly_flagged_by_lang": {"en": "0/2", "zh-Hans": "0/1"}}


@pytest.fixture(scope="module")
def eval_json(built_settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    proc = run("eval", "--set", str(SET), "--json", "--hits-out", str(out / "hits.jsonl"),
               "--index", str(built_settings.index_dir), "--source", str(built_settings.source_dir),
               "--report", str(out / "report.html"))
    assert proc.returncode == 0, proc.stderr
    (out / "run.json").write_text(proc.stdout, encoding="utf-8")
    return out


@pytest.mark.integration
def test_eval_json_contract_and_hits_out(eval_json):
    data = json.loads((eval_json / "run.json").read_text())
    assert set(data["metrics"]) == {"recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
    assert set(data["by_lang"]) == {"en", "zh-Hans", "zh-Hant"}
    assert set(data["by_kind"]) == {"single", "conversation"}
    assert sum(v["n"] for v in data["by_lang"].values()) == data["n"] == len(data["per_query"])
    unanswerable = data["unanswerable"]
    assert unanswerable["n"] >= 15 and 0.6 * unanswerable["n"] <= unanswerable["flagged"] <= unanswerable["n"]
    assert unanswerable["answerable_wrongly_flagged"] <= 0.05 * data["n"]  # regression floors; measured: 15 of 18 flagged, 2 of 153
    # a regression floor, far below the measured figures (see README, *Figures*): the right passage is retrieved
    assert data["metrics"]["recall@10"] >= 0.95
    rows = [json.loads(line) for line in (eval_json / "hits.jsonl").read_text().splitlines()]
    assert len(rows) == data["n"] + data["unanswerable"]["n"]
    assert set(rows[0]) >= {"id", "answerable", "hits"}
    assert set(rows[0]["hits"][0]) >= {"rank", "chunk_id", "doc", "text", "start", "end", "score"}
    assert len(rows[0]["hits"]) == 10


@pytest.mark.integration
def test_the_report_of_a_real_run_shows_the_json_s_numbers_and_its_context(eval_json):
    from test_report import cells

    data = json.loads((eval_json / "run.json").read_text())
    page = (eval_json / "report.html").read_text(encoding="utf-8")
    shown = cells(page)
    assert all(shown[("all", m)] == f"{v:.3f}" for m, v in data["metrics"].items())
    assert all(shown[(lang, m)] == f"{values[m]:.3f}" for lang, values in data["by_lang"].items()
               for m in data["metrics"])
    assert "embeddinggemma-300m" in page and data["questions"][0]["index_version"] in page
    missed = [q for q in data["questions"] if q["answerable"] and q["gold_rank"] != 1]
    assert all(f'<code>{q["id"]}</code>' in page for q in missed)


@pytest.mark.integration
def test_compare_reports_a_paired_test(eval_json):
    run_file = str(eval_json / "run.json")
    proc = run("eval", "--compare", run_file, run_file, "--json", "--report", str(eval_json / "diff.html"))
    assert proc.returncode == 0, proc.stderr
    assert "Worse in B (0)" in (eval_json / "diff.html").read_text(encoding="utf-8")
    data = json.loads(proc.stdout)
    assert data["n"] > 100
    for values in data["metrics"].values():  # a run against itself: no difference, nothing significant
        assert values["delta"] == 0 and not values["significant"]


@pytest.mark.integration
def test_source_without_index_is_refused_to_protect_the_default_index(tmp_path):
    proc = run("eval", "--set", str(SET), "--source", str(tmp_path))
    assert proc.returncode == 1 and "--source needs --index" in proc.stderr


@pytest.mark.integration
def test_the_template_is_a_set_that_loads_and_is_not_overwritten(tmp_path):
    from cqqa.evaluation.evalset import load_eval_set

    path = tmp_path / "mine.jsonl"
    assert run("eval", "--template", str(path)).returncode == 0
    items = load_eval_set(path)
    assert {i.kind for i in items} == {"single", "conversation", "unanswerable"}
    assert path.read_text(encoding="utf-8").startswith("# A cqqa evaluation set")
    again = run("eval", "--template", str(path))
    assert again.returncode == 1 and "exists" in again.stderr


@pytest.mark.integration
def test_malformed_set_exits_with_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n', encoding="utf-8")
    proc = run("eval", "--set", str(bad))
    assert proc.returncode == 1 and "line 1: missing field" in proc.stderr
