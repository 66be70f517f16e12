"""Fit the refusal decision (retrieve/decision.py) to a corpus: `cqqa calibrate`.

Input: questions with the truth (an evaluation set; its unanswerable questions either written
by hand or made by holding articles out, evaluation/holdout.py), each retrieved once to get the
decision's signals. Output: per language, the three thresholds that refuse the most unanswerable
questions (then wrongly refuse the fewest answerable ones) while wrongly refusing at most
`max_refused` of the answerable ones *in every group*
(one group per corpus, so a pooled fit cannot trade one corpus's answerable questions for
another's refusals).

The thresholds are searched on a grid (0.005 apart). Of the thresholds that do equally well,
the middle of the range is taken, not its edge (a kind of question with no unanswerable example
to fit on keeps the base threshold, moved only as far as its answerable questions require): the margin is what carries the decision to
questions it was not fitted on, and to other dtypes (int8 and bf16 move a score by about 0.01).
A language with no unanswerable question, or no answerable one, keeps the base decision's
thresholds: there is nothing to fit them on.

How far a Chinese question's unwritten terms raise its bar (`per_unwritten`, decision.py) is
chosen from SLOPES the same way: the thresholds are fitted for each, and the slope that refuses
the most unanswerable questions (then wrongly the fewest answerable ones; then the smallest) wins.
It only has something to fit on where the questions include near misses (`--near-misses`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from cqqa.errors import CqqaError
from cqqa.retrieve.decision import LANGUAGES, Decision, Signals, Thresholds

GRID = np.round(np.arange(0.10, 0.901, 0.005), 3)
SLOPES = (0.0, 0.1, 0.2, 0.3)  # per_unwritten candidates
Labelled = list[tuple[bool, Signals]]  # (answerable, signals)


def collect(items, searcher, progress=lambda message: None) -> Labelled:
    """Retrieve every question once; the truth and the signals of each."""
    retrievals = searcher.retrieve_many([(item.question, item.history) for item in items], k=5)
    progress(f"retrieved {len(items)} questions")
    return [(item.answerable, r.signals) for item, r in zip(items, retrievals)]


def save_signals(rows: Labelled, path: Path) -> None:
    Path(path).write_text("".join(json.dumps({"answerable": a, **asdict(s)}) + "\n" for a, s in rows), encoding="utf-8")


def load_signals(path: Path) -> Labelled:
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((bool(row.pop("answerable")), Signals(**row)))
        except (ValueError, TypeError, KeyError) as exc:
            raise CqqaError(f"{path} line {number} is not a line of `cqqa calibrate --signals-out` ({exc})") from None
    return rows


def _refusals(rows: Labelled, decision: Decision) -> tuple[int, int, int, int]:
    """(answerable refused, answerable, unanswerable refused, unanswerable)."""
    refused = [not decision.answerable(s) for _, s in rows]
    answerable = [a for a, _ in rows]
    return (sum(r and a for r, a in zip(refused, answerable)), sum(answerable),
            sum(r and not a for r, a in zip(refused, answerable)), len(rows) - sum(answerable))


def measure(decision: Decision, groups: dict[str, Labelled]) -> dict:
    """Per group and language: answerable wrongly refused and unanswerable refused."""
    out = {}
    for name, rows in groups.items():
        for lang in LANGUAGES:
            subset = [row for row in rows if row[1].lang == lang]
            if subset:
                ar, a, ur, u = _refusals(subset, decision)
                out[f"{name} {lang}"] = {"answerable_refused": f"{ar}/{a}", "unanswerable_refused": f"{ur}/{u}"}
    return out


def _middle(values: list[float]) -> float:
    """The middle of the longest run of consecutive grid values (ties: the lowest run)."""
    runs, run = [], [values[0]]
    for value in values[1:]:
        if round(value - run[-1], 3) <= 0.005:
            run.append(value)
        else:
            runs.append(run)
            run = [value]
    runs.append(run)
    best = max(runs, key=len)
    return round(float(best[len(best) // 2]), 3)


CLASSES = ("plain", "with_absent_terms", "anchored")  # which threshold decides a question


def _class(s: Signals) -> str | None:
    if s.lookup or s.absent_year or s.score is None or s.identifier and not s.absent_terms:
        return None  # decided without a threshold of its own
    return "with_absent_terms" if s.absent_terms else "anchored" if s.anchored else "plain"


def _counts(rows: Labelled, answerable: bool, kind: str, slope: float) -> np.ndarray:
    """For each grid value, how many of the questions that `kind` decides it refuses (the bar
    raised by `slope` per share of unwritten terms)."""
    scores = np.array([s.score - slope * (s.unwritten or 0.0) for a, s in rows if a == answerable and _class(s) == kind])
    return (scores[None, :] < GRID[:, None]).sum(axis=1) if len(scores) else np.zeros(len(GRID), int)


def _fit_language(groups: list[Labelled], lang: str, max_refused: float, base: Thresholds) -> Thresholds | None:
    """The thresholds and slope (SLOPES) that refuse the most unanswerable questions of `lang`."""
    fits = [fit for slope in SLOPES if (fit := _fit_slope(groups, lang, max_refused, base, slope))]
    if not fits:
        return None
    return max(fits, key=lambda fit: (fit[1], -fit[2], -fit[0].per_unwritten))[0]


def _fit_slope(groups: list[Labelled], lang: str, max_refused: float, base: Thresholds,
               slope: float) -> tuple[Thresholds, int, int] | None:
    """The thresholds fitted with the bar raised by `slope` per share of unwritten terms;
    with how many unanswerable questions they refuse, and answerable ones wrongly."""
    per_group = [[row for row in rows if row[1].lang == lang] for rows in groups]
    per_group = [rows for rows in per_group if rows]
    answerable = [sum(a for a, _ in rows) for rows in per_group]
    if not per_group or sum(answerable) == 0 or sum(answerable) == sum(map(len, per_group)):
        return None
    g = GRID
    # axes: [plain, with_absent_terms, anchored]; absent terms never lower the bar. An anchor may
    # raise it: where every question names what the corpus is about, a name in the passage says little
    feasible = np.broadcast_to(g[None, :, None] >= g[:, None, None], (len(g),) * 3).copy()
    refused, wrongly = np.zeros((len(g),) * 3, int), np.zeros((len(g),) * 3, int)
    seen = [any(not a and _class(s) == kind for rows in per_group for a, s in rows) for kind in CLASSES]
    for rows, n in zip(per_group, answerable):
        a = [_counts(rows, True, kind, slope) for kind in CLASSES]
        u = [_counts(rows, False, kind, slope) for kind in CLASSES]
        group_wrongly = a[0][:, None, None] + a[1][None, :, None] + a[2][None, None, :]
        feasible &= group_wrongly <= int(np.floor(max_refused * n))
        wrongly += group_wrongly
        refused += u[0][:, None, None] + u[1][None, :, None] + u[2][None, None, :]
    if not feasible.any():
        return None
    best = feasible & (refused == refused[feasible].max())  # the most unanswerable refused,
    best &= wrongly == wrongly[best].min()  # then the fewest answerable
    winners = np.argwhere(best)
    most, fewest = int(refused[best].max()), int(wrongly[best].min())
    chosen = {}
    for axis in (0, 2, 1):  # plain first, then anchored, then absent terms: each the middle of what remains
        values = sorted({float(g[w[axis]]) for w in winners})
        if seen[axis]:
            chosen[axis] = _middle(values)
        else:  # no unanswerable question of this kind: the base threshold, moved only as far as needed
            chosen[axis] = min(values, key=lambda v: abs(v - getattr(base, CLASSES[axis])))
        winners = winners[g[winners[:, axis]] == chosen[axis]]
    # the judge's thresholds are the base's: fitting them needs the reader's verdicts on near misses
    return Thresholds(chosen[0], chosen[1], chosen[2], slope, base.judge_below, base.judge_min), most, fewest


def fit(groups: dict[str, Labelled], base: Decision, max_refused: float = 0.02, how: str = "") -> Decision:
    """The decision fitted on labelled signals, one group per corpus (see the module's doc)."""
    if not 0 <= max_refused < 1:
        raise CqqaError(f"--max-refused {max_refused} must be a fraction between 0 and 1, e.g. 0.02")
    thresholds, kept = dict(base.thresholds), []
    for lang in LANGUAGES:
        fitted = _fit_language(list(groups.values()), lang, max_refused, base.thresholds[lang])
        if fitted is None:
            kept.append(lang)
        else:
            thresholds[lang] = fitted
    note = how + (f"; kept the base thresholds for {', '.join(kept)} (no answerable and unanswerable "
                  "questions in that language to fit on)" if kept else "")
    decision = replace(base, thresholds=thresholds, fitted_on=note)
    return replace(decision, measured=measure(decision, groups))


def format_fit(before: Decision, after: Decision, groups: dict[str, Labelled]) -> str:
    lines = [f"{'':22}{'plain':>8}{'absent terms':>14}{'anchored':>10}{'unwritten':>10}"
             f"{'answerable refused':>22}{'unanswerable refused':>22}"]
    for label, decision in (("before", before), ("after", after)):
        measured = measure(decision, groups)
        for lang in LANGUAGES:
            t = decision.thresholds[lang]
            lines.append(f"{label + ' ' + lang:22}{t.plain:>8.3f}{t.with_absent_terms:>14.3f}{t.anchored:>10.3f}"
                         f"{t.per_unwritten:>10.2f}")
            for key, row in measured.items():
                if key.endswith(" " + lang):
                    lines.append(f"{'  ' + key:64}{row['answerable_refused']:>22}{row['unanswerable_refused']:>22}")
    return "\n".join(lines)
