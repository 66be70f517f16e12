"""Score retrieval on an evaluation set, and compare two scored runs.

Metrics come from ranx. "Recall@k" is the fraction of questions with a relevant
passage in the top k (ranx `hit_rate@k`): any passage containing the evidence
answers the question, and with overlapping chunks a question can have several
relevant passages. MRR@10 and nDCG@10 are ranx's `mrr@10` and `ndcg@10`.

Questions whose evidence lies in no chunk at all (split by a chunk boundary)
count as misses and are listed as `unreachable`.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from cqqa.config import RetrievalSettings
from cqqa.errors import CqqaError
from cqqa.evaluation.evalset import EvalItem
from cqqa.textnorm import fold

METRICS = {  # our name -> ranx name
    "recall@1": "hit_rate@1",
    "recall@3": "hit_rate@3",
    "recall@5": "hit_rate@5",
    "recall@10": "hit_rate@10",
    "mrr@10": "mrr@10",
    "ndcg@10": "ndcg@10",
}
UNREACHABLE = "__no_chunk_contains_the_evidence__"


def relevant_chunks(items: list[EvalItem], chunks) -> dict[str, set[str]]:
    """question id -> ids of every indexed chunk that contains one of its evidence strings."""
    folded = [(c.chunk_id, fold(c.text)) for c in chunks]
    out = {}
    for item in items:
        needles = [fold(e) for e in item.evidence]
        out[item.id] = {cid for cid, text in folded if any(n in text for n in needles)}
    return out


@dataclass
class EvalResult:
    n: int
    metrics: dict[str, float]
    by_lang: dict[str, dict]
    by_kind: dict[str, dict]
    unanswerable: dict
    per_query: dict[str, dict[str, float]]
    unreachable: list[str]
    seconds: float
    hits: list[dict]
    questions: list[dict] = field(default_factory=list)  # one row per question (question_rows): the report's misses
    decision: dict = field(default_factory=dict)  # the thresholds that decided the refusals, per language

    def to_dict(self) -> dict:
        return {"n": self.n, "metrics": self.metrics, "by_lang": self.by_lang, "by_kind": self.by_kind,
                "unanswerable": self.unanswerable, "unreachable": self.unreachable,
                "seconds": round(self.seconds, 2), "per_query": self.per_query, "decision": self.decision,
                "questions": self.questions}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: round(float(np.mean([r[name] for r in rows])), 4) for name in METRICS}


def evaluate(items: list[EvalItem], searcher, k: int = 10, progress=lambda message: None) -> EvalResult:
    import warnings

    from numba.core.errors import NumbaTypeSafetyWarning
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    warnings.filterwarnings("ignore", category=NumbaTypeSafetyWarning)  # ranx's uint64 cast, harmless

    started = time.perf_counter()
    retrievals, seconds = timed_retrievals(items, searcher, k)
    results = [r.hits for r in retrievals]
    progress(f"retrieved {len(items)} questions in {time.perf_counter() - started:.1f} s")

    answerable = [item for item in items if item.answerable]
    relevant = relevant_chunks(answerable, searcher.index.chunks)
    unreachable = sorted(item.id for item in answerable if not relevant[item.id])
    per_query: dict[str, dict[str, float]] = {}
    if answerable:
        qrels = Qrels.from_dict({i.id: ({c: 1 for c in relevant[i.id]} or {UNREACHABLE: 1}) for i in answerable})
        by_id = dict(zip((i.id for i in items), results))
        run = Run.from_dict({i.id: ({h.chunk_id: float(k - h.rank + 1) for h in by_id[i.id]} or {"__none__": 0.0})
                             for i in answerable})
        ranx_evaluate(qrels, run, list(METRICS.values()), save_results_in_run=True)
        for item in answerable:
            per_query[item.id] = {name: float(run.scores[ranx_name][item.id]) for name, ranx_name in METRICS.items()}

    groups_lang, groups_kind = defaultdict(list), defaultdict(list)
    for item in answerable:
        groups_lang[item.lang].append(per_query[item.id])
        groups_kind[item.kind].append(per_query[item.id])

    flags = [r.answerable for r in retrievals]  # the retriever's "not in the articles" (False)
    return EvalResult(
        n=len(answerable),
        metrics=_mean(list(per_query.values())) if per_query else {},
        by_lang={lang: {"n": len(rows), **_mean(rows)} for lang, rows in sorted(groups_lang.items())},
        by_kind={kind: {"n": len(rows), **_mean(rows)} for kind, rows in sorted(groups_kind.items())},
        unanswerable=_refusals(items, flags),
        per_query=per_query,
        unreachable=unreachable,
        seconds=time.perf_counter() - started,
        hits=_hit_rows(items, results, flags, relevant),
        questions=question_rows(items, retrievals, relevant, seconds, searcher.decision),
        decision={lang: asdict(t) for lang, t in searcher.decision.thresholds.items()},
    )


def timed_retrievals(items: list[EvalItem], searcher, k: int, batch: int = 256) -> tuple[list, list[float]]:
    """Every question retrieved as the chat does, each timed alone (its query embedded beforehand,
    in batches: the time is the rest: ranking, decision, the judge where it is asked)."""
    retrievals, seconds = [], []
    for at in range(0, len(items), batch):
        part = items[at:at + batch]
        if searcher.embedder:
            searcher.embedder.encode_queries([searcher.plan(i.question, i.history).query for i in part])
        for item in part:
            started = time.perf_counter()
            retrievals.append(searcher.retrieve(item.question, k, item.history))
            seconds.append(time.perf_counter() - started)
    return retrievals, seconds


def _hit(hit) -> dict | None:
    return None if hit is None else {"rank": hit.rank, "chunk_id": hit.chunk_id, "doc": hit.doc, "text": hit.text,
                                     "start": hit.start, "end": hit.end, "score": round(hit.score, 4)}


def question_rows(items: list[EvalItem], retrievals: list, relevant: dict, seconds: list[float], decision) -> list[dict]:
    """Per question: what was asked and expected, the first passage and the first relevant one (its
    rank), the refusal and the decision's reason in `cqqa search --explain`'s words."""
    rows = []
    for item, retrieval, took in zip(items, retrievals, seconds):
        rel = relevant.get(item.id, set())
        gold = next((h for h in retrieval.hits if h.chunk_id in rel), None)
        rows.append({"id": item.id, "question": item.question, "history": list(item.history), "lang": item.lang,
                     "kind": item.kind, "answerable": item.answerable, "doc": item.doc, "evidence": list(item.evidence),
                     "refused": not retrieval.answerable, "gold_rank": gold.rank if gold else None,
                     "top": _hit(retrieval.hits[0] if retrieval.hits else None), "gold": _hit(gold),
                     "seconds": round(took, 4), "signals": asdict(retrieval.signals) if retrieval.signals else None,
                     "decision": decision.explain(retrieval.signals) if retrieval.signals else "",
                     "index_version": retrieval.index_version})
    return rows


def _refusals(items: list[EvalItem], flags: list[bool]) -> dict:
    """How many unanswerable questions were flagged "not in the articles", per language, and how
    many answerable ones wrongly, per language too."""
    flagged = [item for item, flag in zip(items, flags) if not flag]

    def by_lang(answerable: bool) -> dict[str, str]:
        group = [i for i in items if i.answerable == answerable]
        return {lang: f"{sum(1 for i in flagged if i.answerable == answerable and i.lang == lang)}/"
                      f"{sum(1 for i in group if i.lang == lang)}" for lang in sorted({i.lang for i in group})}

    unanswerable = {
        "n": sum(1 for i in items if not i.answerable),
        "flagged": sum(1 for i in flagged if not i.answerable),
        "answerable_wrongly_flagged": sum(1 for i in flagged if i.answerable),
    }
    if unanswerable["n"]:
        unanswerable["flagged_by_lang"] = by_lang(False)
    unanswerable["answerable_wrongly_flagged_by_lang"] = by_lang(True)
    return unanswerable


def _hit_rows(items: list[EvalItem], results: list, flags: list[bool], relevant: dict) -> list[dict]:
    """One row per question with its hits, for --hits-out and --json."""
    rows = []
    for item, hits, flag in zip(items, results, flags):
        rel = relevant.get(item.id, set())
        rows.append({"id": item.id, "answerable": flag, "relevant": sorted(rel),
                     "hits": [_hit(h) | {"relevant": h.chunk_id in rel} for h in hits]})
    return rows


def format_table(result: EvalResult) -> str:
    names = list(METRICS)
    lines = [f"{'':18}{'n':>5}" + "".join(f"{n:>11}" for n in names)]

    def row(label: str, values: dict, n: int) -> None:
        lines.append(f"{label:18}{n:>5}" + "".join(f"{values[name]:>11.3f}" for name in names))

    row("all", result.metrics, result.n)
    for lang, values in result.by_lang.items():
        row(f"lang={lang}", values, values["n"])
    for kind, values in result.by_kind.items():
        row(f"kind={kind}", values, values["n"])
    u = result.unanswerable
    by_lang = ", ".join(f"{lang} {share}" for lang, share in u.get("flagged_by_lang", {}).items())
    wrongly = ", ".join(f"{lang} {share}" for lang, share in u.get("answerable_wrongly_flagged_by_lang", {}).items())
    lines.append(f"unanswerable: {u['n']} questions, flagged {u['flagged']}{f' ({by_lang})' if by_lang else ''}; "
                 f"answerable wrongly flagged: {u['answerable_wrongly_flagged']}{f' ({wrongly})' if wrongly else ''}")
    if result.unreachable:
        lines.append(f"unreachable (evidence in no chunk): {len(result.unreachable)}: "
                     f"{', '.join(result.unreachable[:10])}")
    lines.append(f"{result.seconds:.1f} s")
    return "\n".join(lines)


def compare(path_a: Path, path_b: Path, n_permutations: int = 10000, max_p: float = 0.05) -> dict:
    """Paired Fisher randomisation test (ranx) on the questions both runs scored."""
    from ranx.statistical_tests import fisher_randomization_test

    a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (path_a, path_b))
    for path, data in ((path_a, a), (path_b, b)):
        if "per_query" not in data:
            raise CqqaError(f"{path} has no per-query scores; write it with `cqqa eval --json > FILE`")
    common = sorted(set(a["per_query"]) & set(b["per_query"]))
    out = {"a": str(path_a), "b": str(path_b), "n": len(common), "max_p": max_p, "metrics": {}}
    for name in METRICS:
        xa = np.array([a["per_query"][q][name] for q in common])
        xb = np.array([b["per_query"][q][name] for q in common])
        p_value, significant = fisher_randomization_test(xa, xb, n_permutations, max_p, 42)
        out["metrics"][name] = {"a": round(float(xa.mean()), 4), "b": round(float(xb.mean()), 4),
                                "delta": round(float(xb.mean() - xa.mean()), 4),
                                "p_value": round(float(p_value), 4), "significant": bool(significant)}
    return out


def format_comparison(result: dict) -> str:
    lines = [f"A = {result['a']}", f"B = {result['b']}", f"{result['n']} questions in both; "
             f"paired Fisher randomisation test, significant when p <= {result['max_p']}",
             f"{'metric':12}{'A':>9}{'B':>9}{'B-A':>9}{'p':>9}"]
    for name, m in result["metrics"].items():
        mark = " *" if m["significant"] else ""
        lines.append(f"{name:12}{m['a']:>9.3f}{m['b']:>9.3f}{m['delta']:>+9.3f}{m['p_value']:>9.4f}{mark}")
    return "\n".join(lines)


PRODUCT = RetrievalSettings()
ABLATIONS = [  # label, retrieval settings (follow-up handling is the same in every row)
    ("lexical only", replace(PRODUCT, mode="lexical", bridge_names=False, subject_lookup=False)),
    ("dense only", replace(PRODUCT, mode="dense", sentence_level=False, subject_lookup=False)),
    ("naive fusion (RRF)",
     replace(PRODUCT, mode="rrf", bridge_names=False, sentence_level=False, subject_lookup=False)),
    ("our fusion", replace(PRODUCT, bridge_names=False, sentence_level=False, subject_lookup=False)),
    ("+ name bridge", replace(PRODUCT, sentence_level=False, subject_lookup=False)),
    ("+ sentence level", replace(PRODUCT, subject_lookup=False)),
    ("+ who-is lookup", PRODUCT),
]


def ablate(items: list[EvalItem], settings, progress=lambda message: None) -> dict:
    """Every retrieval stage on one set: overall and per-language figures for each."""
    from cqqa.models.factory import load_embedder
    from cqqa.retrieve.search import Searcher

    embedder = load_embedder(settings)
    rows = {}
    for label, options in ABLATIONS:
        result = evaluate(items, Searcher(settings, embedder=embedder, retrieval=options), progress=progress)
        rows[label] = {"all": {"n": result.n, **result.metrics}, **result.by_lang,
                       **{f"kind={k}": v for k, v in result.by_kind.items()}}
        progress(f"{label}: recall@1 {result.metrics['recall@1']:.3f}")
    return rows


def format_ablation(rows: dict) -> str:
    groups = list(next(iter(rows.values())))
    lines = [f"{'':22}" + "".join(f"{g:>20}" for g in groups),
             f"{'':22}" + "".join(f"{'R@1 / R@5 / MRR':>20}" for _ in groups)]
    for label, values in rows.items():
        cells = [f"{v['recall@1']:.3f}/{v['recall@5']:.3f}/{v['mrr@10']:.3f}" for v in values.values()]
        lines.append(f"{label:22}" + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)
