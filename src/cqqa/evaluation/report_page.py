"""The evaluation report as one HTML file (report.py says what it holds): inline CSS, inline SVG
pictures and a few lines of inline script for the filters; no font, script, style or image from
anywhere else, so it opens from disk in any browser with no network. The run's figures are embedded
too (`<script type="application/json" id="cqqa-data">`), the same numbers the tables show."""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import quote, urlencode

from cqqa.evaluation.evaluate import METRICS

COLOURS = ("#1f6fb2", "#d9730d", "#2e8540", "#9b3fa0", "#8a6d00")
STYLE = """body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 1.5rem auto; max-width: 80rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
th { background: #f4f4f4; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; } figcaption { font-size: .85rem; color: #555; max-width: 440px; }
.passage { max-width: 28rem; font-size: .9rem; line-height: 1.5; } .why { font-weight: bold; }
.decision { font-size: .8rem; color: #444; max-width: 22rem; } .ctx td:first-child { color: #555; } .filters { margin: .5rem 0; } .better { color: #2e8540; } .worse { color: #b00; } code { font-size: .85rem; }"""
SCRIPT = """const rows = [...document.querySelectorAll('#misses tbody tr')];
function applyFilters() {
  const want = Object.fromEntries([...document.querySelectorAll('.filters select')].map(s => [s.dataset.key, s.value]));
  let shown = 0;
  for (const tr of rows) {
    const ok = Object.entries(want).every(([k, v]) => !v || tr.dataset[k] === v);
    tr.hidden = !ok; shown += ok;
  }
  document.getElementById('shown').textContent = shown;
}
document.querySelectorAll('.filters select').forEach(s => s.addEventListener('change', applyFilters));"""


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else esc(value)


def line_chart(series: dict[str, list[tuple[float, float]]], xlabel: str, ylabel: str, marks=(),
               x_max: float | None = None, y_max: float = 1.0, width: int = 440, height: int = 280,
               x_min: float = 0.0, y_min: float = 0.0) -> str:
    """Lines (one per series) on axes from (x_min, y_min); `marks`: (x, y, label) points circled."""
    left, right, top, bottom = 48, 12, 12, 40
    xs = [x for points in series.values() for x, _ in points] + [m[0] for m in marks]
    x_max = x_max or max(xs + [1e-9])
    sx = lambda x: left + (width - left - right) * (x - x_min) / (x_max - x_min)  # noqa: E731
    sy = lambda y: height - bottom - (height - top - bottom) * (y - y_min) / (y_max - y_min)  # noqa: E731
    base = sy(y_min)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
           f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#888"/>',
           f'<line x1="{left}" y1="{base}" x2="{left}" y2="{top}" stroke="#888"/>']
    for i in range(5):
        y, x = y_min + (y_max - y_min) * i / 4, x_min + (x_max - x_min) * i / 4
        out.append(f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" font-size="10" text-anchor="end">{y:.3g}</text>'
                   f'<text x="{sx(x):.1f}" y="{base + 14:.1f}" font-size="10" text-anchor="middle">{x:.3g}</text>')
    out.append(f'<text x="{(left + width) / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>'
               f'<text x="12" y="{(top + height) / 2}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 12 {(top + height) / 2})">{esc(ylabel)}</text>')
    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
                   f'<text x="{width - right - 4}" y="{top + 12 + 13 * n}" font-size="11" text-anchor="end" '
                   f'fill="{colour}">{esc(name)}</text>')
    for x, y, label in marks:
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" fill="none" stroke="#000" stroke-width="2"/>'
                   f'<text x="{sx(x) + 8:.1f}" y="{sy(y) - 6:.1f}" font-size="10">{esc(label)}</text>')
    return "".join(out) + "</svg>"


def bar_chart(bars: dict[str, float], xlabel: str, ylabel: str, width: int = 440, height: int = 280) -> str:
    left, right, top, bottom = 48, 12, 12, 40
    peak = max(list(bars.values()) + [1])
    step = (width - left - right) / max(len(bars), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#888"/>']
    for i, (label, value) in enumerate(bars.items()):
        h = (height - top - bottom) * value / peak
        x = left + i * step
        out.append(f'<rect x="{x + 2:.1f}" y="{height - bottom - h:.1f}" width="{step - 4:.1f}" height="{h:.1f}" '
                   f'fill="{COLOURS[0]}"><title>{esc(label)}: {value:g}</title></rect>'
                   f'<text x="{x + step / 2:.1f}" y="{height - bottom + 13}" font-size="9" text-anchor="middle">'
                   f'{esc(label)}</text><text x="{x + step / 2:.1f}" y="{height - bottom - h - 3:.1f}" font-size="9" '
                   f'text-anchor="middle">{value:g}</text>')
    out.append(f'<text x="{(left + width) / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>'
               f'<text x="12" y="{(top + height) / 2}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 12 {(top + height) / 2})">{esc(ylabel)}</text>')
    return "".join(out) + "</svg>"


def figure(svg: str, caption: str, ident: str) -> str:
    return f'<figure id="{ident}">{svg}<figcaption>{esc(caption)}</figcaption></figure>'


def tradeoff_chart(curves: dict[str, list[dict]]) -> str:
    series = {name: [(p["answerable_refused"], p["unanswerable_refused"]) for p in points]
              for name, points in curves.items()}
    marks = [(p["answerable_refused"], p["unanswerable_refused"], f"{name}: the decision used")
             for name, points in curves.items() for p in points if p["shift"] == 0]
    x_max = max([x for points in series.values() for x, _ in points] + [0.05])
    return line_chart(series, "answerable questions refused (share)", "unanswerable refused (share)", marks,
                      x_max=min(1.0, x_max))


def seconds_chart(seconds: list[float]) -> str:
    if not seconds:
        return ""
    ms = sorted(s * 1000 for s in seconds)
    top = ms[int(0.99 * (len(ms) - 1))] or 1.0
    edges = [top * i / 10 for i in range(11)]
    bars = {f"{edges[i]:.0f}": sum(edges[i] <= m < edges[i + 1] or (i == 9 and m >= edges[10]) for m in ms)
            for i in range(10)}
    return bar_chart(bars, "milliseconds per question (bins; the last holds the slowest 1%)", "questions")


def context_table(ctx: dict) -> str:
    names = {"date": "date", "command": "command", "index_version": "index version", "model": "model",
             "backend": "embedder backend", "cpu_class": "CPU class", "machine": "machine",
             "decision_file": "decision file", "a": "run A", "b": "run B"}
    return '<table class="ctx">' + "".join(f"<tr><td>{esc(names.get(k, k))}</td><td><code>{esc(v)}</code></td></tr>"
                                           for k, v in ctx.items()) + "</table>"


def metric_table(result: dict) -> str:
    head = "<tr><th></th><th>n</th>" + "".join(f"<th>{esc(m)}</th>" for m in METRICS) + "</tr>"
    groups = [("all", {"n": result["n"], **result["metrics"]})] + list(result["by_lang"].items()) + \
             [(f"kind={k}", v) for k, v in result["by_kind"].items()]
    body = "".join(f'<tr><th>{esc(name)}</th><td class="n">{values.get("n", "")}</td>' +
                   "".join(f'<td class="n" data-group="{esc(name)}" data-metric="{esc(m)}">{fmt(values.get(m))}</td>'
                           for m in METRICS) + "</tr>" for name, values in groups if values)
    u = result["unanswerable"]
    refusals = (f'<p id="refusals">Unanswerable questions refused: <b data-refused="unanswerable">{u["flagged"]}/{u["n"]}</b>; '
                f'answerable questions wrongly refused: <b data-refused="answerable">{u["answerable_wrongly_flagged"]}/'
                f'{result["n"]}</b></p>')
    return f'<table id="metrics">{head}{body}</table>{refusals}'


ANSWER_COLUMNS = ("n", "quote_has_evidence", "quote_has_evidence_when_cited", "cited_has_evidence",
                  "unanswerable_refused", "answerable_refused", "quote_chars_p50", "judged", "p50_ms", "p90_ms",
                  "fact_recall", "first_token_s_p50", "translation_s_p50")


def answers_table(result: dict) -> str:
    summary = result["summary"]
    head = "<tr><th></th>" + "".join(f"<th>{esc(c)}</th>" for c in ANSWER_COLUMNS) + "</tr>"
    body = "".join(f"<tr><th>{esc(group)}</th>" + "".join(
        f'<td class="n" data-group="{esc(group)}" data-metric="{esc(c)}">{fmt(summary[group].get(c))}</td>'
        for c in ANSWER_COLUMNS) + "</tr>" for group in sorted(summary, key=lambda g: (g != "all", g)))
    return f'<table id="metrics">{head}{body}</table>'


def article_link(server: str, hit: dict | None, version: str, terms: list[str]) -> str:
    if not server or not hit:
        return ""
    query = urlencode([("start", hit["start"]), ("end", hit["end"])] + [("q", t) for t in terms[:3]])
    url = f"{server.rstrip('/')}/article/{quote(version)}/{quote(hit['doc'])}?{query}"
    return f' <a href="{esc(url)}" target="_blank" rel="noopener">open ↗</a>'


def passage(hit: dict | None, server: str, version: str, terms: list[str]) -> str:
    if not hit:
        return "—"
    return (f'<div class="passage"><b>#{hit["rank"]}</b> {esc(hit["doc"])} ({hit["score"]:.3f})'
            f'{article_link(server, hit, version, terms)}<br>{esc(hit["text"][:400])}</div>')


def translations(row: dict) -> str:
    return "".join(f"<br>↳ <i>{esc(t['text'] or '(' + t['status'] + ': ' + '; '.join(t['problems']) + ')')}</i>"
                   for t in row.get("translations", []))


def miss_row(row: dict, kind: str, server: str) -> str:
    asked = esc(row["question"]) + ("".join(f"<br><small>after: {esc(h)}</small>" for h in row.get("history", [])))
    evidence = "<br>".join(esc(e) for e in row["evidence"]) or "<i>(not in the articles)</i>"
    if kind == "retrieval":
        version = row.get("index_version", "")
        shown = (f'<td>{passage(row["top"], server, version, row["evidence"])}</td>'
                 f'<td class="n">{row["gold_rank"] or "—"}</td>'
                 f'<td>{passage(row["gold"], server, version, row["evidence"]) if row["gold"] and row["gold_rank"] != 1 else ""}</td>')
    else:
        quotes = "<br>".join(f"「{esc(q)}」" for q in row.get("quotes", [])) or f"<i>{esc(row['answer'][:300])}</i>"
        shown = f'<td class="passage">{quotes}{translations(row)}</td>'
    return (f'<tr data-lang="{esc(row["lang"])}" data-kind="{esc(row["kind"])}" data-why="{esc(row["why"])}">'
            f'<td><code>{esc(row["id"])}</code></td><td>{esc(row["lang"])}</td><td>{esc(row["kind"])}</td>'
            f'<td class="why">{esc(row["why"])}</td><td>{asked}</td><td class="passage">{evidence}</td>{shown}'
            f'<td class="decision">{esc(row.get("decision", ""))}</td></tr>')


def filters(rows: list[dict]) -> str:
    def select(key: str, label: str) -> str:
        options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in sorted({r[key] for r in rows}))
        return (f'<label>{label} <select data-key="{key}" id="filter-{key}"><option value="">all</option>'
                f"{options}</select></label> ")
    return (f'<div class="filters">{select("lang", "language")}{select("kind", "kind")}{select("why", "miss")}'
            f'<span><b id="shown">{len(rows)}</b> of {len(rows)} shown</span></div>')


def misses_table(report: dict, server: str) -> str:
    rows, kind = report["misses"], report["kind"]
    heads = ["id", "lang", "kind", "miss", "question", "evidence"] + (
        ["ranked first", "relevant at", "the relevant passage"] if kind == "retrieval" else ["quoted (and translated)"])
    head = "".join(f"<th>{h}</th>" for h in heads + ["the decision (as cqqa search --explain says it)"])
    body = "".join(miss_row(r, kind, server) for r in rows)
    return f'{filters(rows)}<table id="misses"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def pictures(report: dict) -> str:
    out = []
    if report.get("recall"):
        lowest = min(v for values in report["recall"].values() for v in values)
        out.append(figure(line_chart({name: list(enumerate(values, start=1)) for name, values in report["recall"].items()},
                                     "k (passages read)", "Recall@k", x_max=len(next(iter(report["recall"].values()))),
                                     x_min=1, y_min=max(0.0, int((lowest - 0.05) * 10) / 10)),
                          "Recall@k: the share of answerable questions with a relevant passage in the first k.", "recall"))
    if report.get("ranks"):
        out.append(figure(bar_chart(report["ranks"], "rank of the first relevant passage", "questions"),
                          "Where the first relevant passage was ranked (none: not in the top 10).", "ranks"))
    out.append(figure(tradeoff_chart({"this run": report["tradeoff"]}),
                      "The refusal trade-off: every threshold of the decision moved together by -0.30 … +0.30; "
                      "each question decided again from its signals. Circled: the decision this run used.", "tradeoff"))
    out.append(figure(seconds_chart(report["seconds"]), "Time per question (retrieval and decision; answers: "
                      "composing too, translation not included).", "seconds"))
    return f'<div class="charts">{"".join(out)}</div>'


BULKY = ("questions", "per_query", "rows", "misses", "changed")  # per question: shown in the tables, not embedded again


def embedded(data: dict) -> dict:
    """The report's figures as JSON in the page (the run's --json less its per-question rows)."""
    slim = lambda d: {k: v for k, v in d.items() if k not in BULKY}  # noqa: E731
    return slim(data) | ({"result": slim(data["result"])} if isinstance(data.get("result"), dict) else {})


def page(title: str, body: str, data: dict) -> str:
    embedded_json = json.dumps(embedded(data), ensure_ascii=False).replace("</", "<\\/")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            f'script-src \'unsafe-inline\'; img-src data:">'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>{body}"
            f'<script type="application/json" id="cqqa-data">{embedded_json}</script><script>{SCRIPT}</script></body></html>')


def render(report: dict, server: str = "") -> str:
    """The whole page for a retrieval, answers or compare report (report.py)."""
    if report["kind"] == "compare":
        return render_compare(report)
    result = report["result"]
    headline = metric_table(result) if report["kind"] == "retrieval" else answers_table(result)
    what = "retrieval" if report["kind"] == "retrieval" else "answers"
    body = (f"{context_table(report['context'])}<h2>Headline figures ({what})</h2>{headline}"
            f"<h2>Pictures</h2>{pictures(report)}<h2>The misses</h2>"
            f"<p>Every answerable question whose relevant passage was not first or that was refused, and every "
            f"unanswerable one that was answered{' (or whose quotes miss the evidence)' if what == 'answers' else ''}."
            f"</p>{misses_table(report, server)}")
    return page(f"cqqa evaluation: {report['set']} ({what})", body, report)


def outcome(row: dict) -> str:
    if not row["answerable"]:
        return "refused (right)" if row["refused"] else "answered (wrong)"
    return "refused (wrong)" if row["refused"] else f"relevant at {row['gold_rank'] or '—'}"


def render_compare(report: dict) -> str:
    comparison = report["comparison"]
    head = "<tr><th>metric</th><th>A</th><th>B</th><th>B − A</th><th>p (paired)</th></tr>"
    body = "".join(f'<tr><th>{esc(name)}</th><td class="n">{m["a"]:.3f}</td><td class="n">{m["b"]:.3f}</td>'
                   f'<td class="n" data-metric="{esc(name)}">{m["delta"]:+.3f}</td><td class="n">{m["p_value"]:.4f}'
                   f'{" *" if m["significant"] else ""}</td></tr>' for name, m in comparison["metrics"].items())
    parts = [context_table(report["context"]), f"<h2>Per metric ({comparison['n']} questions in both)</h2>",
             f'<table id="deltas">{head}{body}</table><p>* significant at p ≤ {comparison["max_p"]} '
             "(paired Fisher randomisation test, ranx).</p>"]
    parts += [f'<p class="refusals">{name}: unanswerable refused {u["flagged"]}/{u["n"]}, answerable wrongly refused '
              f'{u["answerable_wrongly_flagged"]}</p>' for name, u in report.get("refusals", {}).items()]
    if report["tradeoffs"]:
        parts.append("<h2>Refusal trade-off, both runs</h2>" + figure(tradeoff_chart(report["tradeoffs"]),
                     "Each run's thresholds moved together; circled: the decision each run used.", "tradeoff"))
    for side in ("better", "worse"):
        pairs = report["changed"][side]
        rows = "".join(f'<tr class="{side}"><td><code>{esc(p["b"]["id"])}</code></td><td>{esc(p["b"]["question"])}</td>'
                       f'<td>{esc(outcome(p["a"]))}<div class="decision">{esc(p["a"]["decision"])}</div></td>'
                       f'<td>{esc(outcome(p["b"]))}<div class="decision">{esc(p["b"]["decision"])}</div></td></tr>'
                       for p in pairs)
        parts.append(f'<h2 class="{side}">{side.capitalize()} in B ({len(pairs)})</h2><table id="{side}">'
                     f"<tr><th>id</th><th>question</th><th>A</th><th>B</th></tr>{rows}</table>")
    return page("cqqa evaluation: A against B", "".join(parts), report)


def write(path: Path, text: str) -> None:
    """Written whole or not at all."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
