"""What the evaluation report shows (`cqqa eval --report FILE`; drawn by report_page.py), computed
from the same result `--json` prints, so the report and the JSON cannot disagree:

- recall_curves: Recall@k for k = 1..10, per language (answerable questions);
- rank_counts: at which rank the first relevant passage came (or none in the top k);
- tradeoff: answerable refused against unanswerable refused as every threshold of the decision
  moves together (SHIFTS), each question decided again from the signals it was retrieved with
  (the judge's verdicts as this run gave them); shift 0 is the decision the run used;
- misses: every answerable question whose relevant passage is not first or that was refused, every
  unanswerable one that was answered (and, for answers, every answer whose quotes miss the evidence);
- changed: for two runs, the questions that got better or worse.
"""

from __future__ import annotations

import platform
import time
from dataclasses import replace

import numpy as np

from cqqa.retrieve.decision import Decision, Signals, Thresholds

K = 10
SHIFTS = tuple(round(float(x), 3) for x in np.arange(-0.30, 0.3001, 0.01))


def context(settings, searcher, command: list[str], decision_file: str) -> dict:
    """The run's circumstances, shown at the top of the report."""
    from cqqa.models.cpu import cpu_class

    embedder = searcher.embedder
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(command),
            "index_version": searcher.index.version, "model": settings.model,
            "backend": type(embedder).__name__ if embedder else "none (lexical)", "cpu_class": cpu_class(),
            "machine": platform.machine(), "decision_file": decision_file}


def decision_of(thresholds: dict) -> Decision:
    return Decision({lang: Thresholds(**t) for lang, t in thresholds.items()})


def refused(decision: Decision, signals: dict | None) -> bool:
    return signals is None or not decision.answerable(Signals(**signals))


def shifted(decision: Decision, shift: float) -> Decision:
    return Decision({lang: replace(t, plain=t.plain + shift, with_absent_terms=t.with_absent_terms + shift,
                                   anchored=t.anchored + shift) for lang, t in decision.thresholds.items()})


def tradeoff(rows: list[dict], thresholds: dict) -> list[dict]:
    """One point per shift: the shares of answerable and of unanswerable questions refused."""
    base = decision_of(thresholds)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    points = []
    for shift in SHIFTS:
        decision = shifted(base, shift)
        share = lambda group: (sum(refused(decision, r["signals"]) for r in group) / len(group)  # noqa: E731
                               if group else 0.0)
        points.append({"shift": shift, "answerable_refused": round(share(answerable), 4),
                       "unanswerable_refused": round(share(unanswerable), 4)})
    return points


def recall_curves(rows: list[dict], k: int = K) -> dict[str, list[float]]:
    answerable = [r for r in rows if r["answerable"]]
    groups = {"all": answerable} | {lang: [r for r in answerable if r["lang"] == lang]
                                    for lang in sorted({r["lang"] for r in answerable})}
    return {name: [round(sum(r["gold_rank"] is not None and r["gold_rank"] <= n for r in group) / len(group), 4)
                   for n in range(1, k + 1)] for name, group in groups.items() if group}


def rank_counts(rows: list[dict], k: int = K) -> dict[str, int]:
    answerable = [r for r in rows if r["answerable"]]
    counts = {str(n): sum(r["gold_rank"] == n for r in answerable) for n in range(1, k + 1)}
    return counts | {"none": sum(r["gold_rank"] is None for r in answerable)}


def why_missed(row: dict) -> str | None:
    """Why a retrieval row is a miss (None: it is not): the kind of miss, as the filter names it."""
    if not row["answerable"]:
        return None if row["refused"] else "answered, not in the articles"
    if row["refused"]:
        return "wrongly refused"
    if row["gold_rank"] is None:
        return "relevant passage not retrieved"
    return None if row["gold_rank"] == 1 else "relevant passage not first"


def why_answer_missed(row: dict) -> str | None:
    if not row["answerable"]:
        return None if row["refused"] else "answered, not in the articles"
    if row["refused"]:
        return "wrongly refused"
    return None if row["quote_has_evidence"] else "quotes miss the evidence"


def retrieval_report(result: dict, ctx: dict, set_name: str) -> dict:
    rows = result["questions"]
    return {"kind": "retrieval", "set": set_name, "context": ctx, "result": result,
            "recall": recall_curves(rows), "ranks": rank_counts(rows), "tradeoff": tradeoff(rows, result["decision"]),
            "seconds": [r["seconds"] for r in rows],
            "misses": [r | {"why": why} for r in rows if (why := why_missed(r))]}


def answers_report(result: dict, ctx: dict, set_name: str) -> dict:
    rows = result["rows"]
    return {"kind": "answers", "set": set_name, "context": ctx, "result": result,
            "tradeoff": tradeoff(rows, result["decision"]), "seconds": [r["seconds"] for r in rows],
            "misses": [r | {"why": why} for r in rows if (why := why_answer_missed(r))]}


def rank_key(row: dict) -> tuple:
    """Better first: a right refusal or answer, then the relevant passage's rank."""
    if not row["answerable"]:
        return (0 if row["refused"] else 1, 0)
    if row["refused"]:
        return (1, 0)
    return (0, row["gold_rank"] or K + 1)


def changed(a: dict, b: dict) -> dict[str, list[dict]]:
    """The questions both runs asked whose outcome differs: better and worse in B."""
    by_id = {r["id"]: r for r in a.get("questions", [])}
    out = {"better": [], "worse": []}
    for row in b.get("questions", []):
        old = by_id.get(row["id"])
        if old is None or rank_key(old) == rank_key(row):
            continue
        out["better" if rank_key(row) < rank_key(old) else "worse"].append({"a": old, "b": row})
    return out


def compare_report(comparison: dict, a: dict, b: dict, ctx: dict) -> dict:
    curves = {name: tradeoff(run["questions"], run["decision"]) for name, run in (("A", a), ("B", b))
              if run.get("questions") and run.get("decision")}
    refusals = {name: run["unanswerable"] for name, run in (("A", a), ("B", b)) if "unanswerable" in run}
    return {"kind": "compare", "context": ctx, "comparison": comparison, "changed": changed(a, b), "tradeoffs": curves,
            "refusals": refusals}
