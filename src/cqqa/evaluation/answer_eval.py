"""Score the answers a user reads, not only the passages retrieved (`cqqa eval --answers`).

For every question of an evaluation set, the product's own path (retrieve 5 passages, decide,
compose the extractive answer) and, per language and kind:

- quote_has_evidence: the answer's quoted sentences contain an evidence string (whitespace
  and script folded), over the answerable questions;
- quote_has_evidence_when_cited: the same, over the answerable questions whose evidence is in
  a cited passage (what quote selection alone can fix; target >= 0.95);
- cited_has_evidence: a cited passage contains the evidence;
- quote_chars_p50: characters quoted per answer (median over the answers given): the price of
  quoting more to hold the evidence;
- refusals: unanswerable questions refused, answerable questions wrongly refused;
- seconds per answer (p50, p90), retrieval included (and the reader's judgement where it is
  asked, judge.py), query embedding excluded (embedded in batches first, as `cqqa eval` does);
- judged: how many answers the reader judged.

With a reader (`--reader`), each answerable English question's quotes are also translated and
checked, as the chat does, and per language/kind: translations checked / withheld / failed;
fact_recall, the item's English `facts` found in the checked translations the user reads (a
number by value, a name or term as text), beside draft_fact_recall, the same in everything the
model wrote, withheld drafts included; seconds to the first translated token and to the whole
answer (p50, p90).
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import asdict

from cqqa.answer.compose import compose_extractive
from cqqa.answer.types import quotes_of
from cqqa.evaluation.evalset import EvalItem
from cqqa.answer.quantities import english_quantities
from cqqa.textnorm import fold

K = 5  # passages per question, as the assistant retrieves


def _contains(texts: list[str], evidence: tuple[str, ...]) -> bool:
    folded = [fold(t) for t in texts]
    return any(fold(e) in t for e in evidence for t in folded)


def _fact_found(fact: str, text: str) -> bool:
    wanted = english_quantities(fact)
    if wanted:
        written = english_quantities(text)
        return all(any(w.matches(q) or q.matches(w) for q in written) for w in wanted)
    return fact.lower() in text.lower()


def _translate(answer, reader) -> dict:
    started = time.perf_counter()
    first, final = None, []
    for final in reader.translate_all(quotes_of(answer)):
        if first is None and any(t.draft for t in final):
            first = time.perf_counter() - started
    return {"translations": [{"status": t.status, "quote": t.quote, "text": t.text, "draft": t.draft,
                              "problems": t.problems}
                             for t in final],
            "first_token_seconds": first, "translation_seconds": time.perf_counter() - started}


def evaluate_answers(items: list[EvalItem], searcher, progress=lambda message: None, reader=None,
                     reader_limit: int | None = None) -> dict:
    if searcher.embedder:  # embed every query first, in batches, as `cqqa eval` does: the timing is the rest
        searcher.embedder.encode_queries([searcher.plan(i.question, i.history).query for i in items])
    rows, translated, english_quotes = [], 0, []
    for item in items:
        started = time.perf_counter()
        retrieval = searcher.retrieve(item.question, K, item.history)
        answer = compose_extractive(item.question, retrieval)
        seconds = time.perf_counter() - started
        quotes = [q for c in answer.citations for q in c.quotes]
        rows.append({
            "id": item.id, "lang": item.lang, "kind": item.kind, "answerable": item.answerable,
            "refused": not answer.answerable, "seconds": seconds,
            "cited_has_evidence": item.answerable and _contains([c.text for c in answer.citations], item.evidence),
            "quote_has_evidence": item.answerable and _contains(quotes, item.evidence),
            "quote_chars": sum(len(q) for q in quotes),
            "judged": retrieval.signals.judged if retrieval.signals else None,  # the reader's yes (judge.py)
            "question": item.question, "answer": answer.answer, "evidence": list(item.evidence), "quotes": quotes,
            "signals": asdict(retrieval.signals) if retrieval.signals else None,  # for the report (report.py)
            "decision": searcher.decision.explain(retrieval.signals) if retrieval.signals else "",
        })
        translate = reader is not None and answer.answerable and answer.lang == "en" and item.answerable
        if answer.answerable and answer.lang == "en":
            english_quotes += quotes
        if translate and (reader_limit is None or translated < reader_limit):
            translated += 1
            rows[-1].update(_translate(answer, reader))
            shown = " ".join(t["text"] for t in rows[-1]["translations"])
            drafted = " ".join(t["draft"] for t in rows[-1]["translations"])
            facts = item.extra.get("facts", [])
            rows[-1]["facts"] = facts
            rows[-1]["facts_found"] = [f for f in facts if _fact_found(f, shown)]
            rows[-1]["facts_in_drafts"] = [f for f in facts if _fact_found(f, drafted)]
            progress(f"translated {item.id}: " + ", ".join(t["status"] for t in rows[-1]["translations"]))
    progress(f"answered {len(rows)} questions")
    groups = defaultdict(list)
    for row in rows:
        for key in ("all", f"lang={row['lang']}", f"kind={row['kind']}"):
            groups[key].append(row)
    summary = {key: _summarise(group) for key, group in groups.items()}
    repeated = len(english_quotes) - len(set(english_quotes))
    cache = {"english_quotes": len(english_quotes), "repeated": repeated,  # what the reader's cache saves,
             "hit_rate": round(repeated / len(english_quotes), 3) if english_quotes else None}  # asked in order
    return {"summary": summary, "rows": rows, "translation_cache": cache,
            "decision": {lang: asdict(t) for lang, t in searcher.decision.thresholds.items()}}


def _summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    cited = [r for r in answerable if r["cited_has_evidence"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    times = sorted(r["seconds"] for r in rows)
    share = lambda part, whole: round(len(part) / len(whole), 4) if whole else None  # noqa: E731
    return {
        "n": len(rows),
        "answerable": len(answerable),
        "quote_has_evidence": share([r for r in answerable if r["quote_has_evidence"]], answerable),
        "quote_has_evidence_when_cited": share([r for r in cited if r["quote_has_evidence"]], cited),
        "cited_has_evidence": share(cited, answerable),
        "unanswerable_refused": f"{sum(r['refused'] for r in unanswerable)}/{len(unanswerable)}",
        "answerable_refused": f"{sum(r['refused'] for r in answerable)}/{len(answerable)}",
        "quote_chars_p50": round(statistics.median(chars)) if (chars := [r["quote_chars"] for r in rows if not r["refused"]])
        else None,
        "judged": sum(r.get("judged") is not None for r in rows),  # answers the reader judged (judge.py)
        "p50_ms": round(1000 * statistics.median(times), 1) if times else None,
        "p90_ms": round(1000 * times[int(0.9 * (len(times) - 1))], 1) if times else None,
        **_reader_summary([r for r in rows if "translations" in r]),
    }


def _reader_summary(rows: list[dict]) -> dict:
    if not rows:
        return {}
    statuses = [t["status"] for r in rows for t in r["translations"]]
    with_facts = [r for r in rows if r["facts"]]
    facts = sum(len(r["facts"]) for r in with_facts)
    firsts = sorted(r["first_token_seconds"] for r in rows if r["first_token_seconds"] is not None)
    totals = sorted(r["translation_seconds"] for r in rows)
    pct = lambda xs, q: round(xs[int(q * (len(xs) - 1))], 2) if xs else None  # noqa: E731
    return {
        "translated_answers": len(rows),
        "translations": {s: statuses.count(s) for s in ("checked", "withheld", "failed")},
        "fact_recall": round(sum(len(r["facts_found"]) for r in with_facts) / facts, 4) if facts else None,
        "draft_fact_recall": round(sum(len(r["facts_in_drafts"]) for r in with_facts) / facts, 4) if facts else None,
        "items_with_facts": len(with_facts),
        "first_token_s_p50": pct(firsts, 0.5), "first_token_s_p90": pct(firsts, 0.9),
        "translation_s_p50": pct(totals, 0.5), "translation_s_p90": pct(totals, 0.9),
    }


def format_answers(result: dict) -> str:
    cols = ("n", "quote_has_evidence", "quote_has_evidence_when_cited", "cited_has_evidence",
            "unanswerable_refused", "answerable_refused", "quote_chars_p50", "judged", "p50_ms", "p90_ms")
    heads = ("n", "quote∋evid", "…when cited", "cited∋evid", "unans. refused", "ans. refused", "quoted chars",
             "judged", "p50 ms", "p90 ms")
    lines = [f"{'':18}" + "".join(f"{h:>15}" for h in heads)]
    for key in sorted(result["summary"], key=lambda k: (k != "all", k)):
        values = result["summary"][key]
        cells = [_cell(c, values[c]) for c in cols]
        lines.append(f"{key:18}" + "".join(f"{c:>15}" for c in cells))
    cache = result.get("translation_cache") or {}
    if cache.get("english_quotes"):
        lines += ["", f"English answers quote {cache['english_quotes']} sentences, {cache['repeated']} of them quoted "
                      f"before: the reader translates those once (hit rate {cache['hit_rate']:.3f})"]
    reader_cols = ("translated_answers", "translations", "fact_recall", "draft_fact_recall", "first_token_s_p50",
                   "first_token_s_p90", "translation_s_p50", "translation_s_p90")
    if "translated_answers" in result["summary"]["all"]:
        lines += ["", "reader (English answers):"]
        for key in sorted(result["summary"], key=lambda k: (k != "all", k)):
            values = result["summary"][key]
            if "translated_answers" in values:
                lines.append(f"{key:18}" + "  ".join(f"{c}={values[c]}" for c in reader_cols))
    return "\n".join(lines)


def _cell(column: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if column.endswith("_ms") else f"{value:.3f}"
    return str(value)
