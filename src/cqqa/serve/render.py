"""HTML for the sources panel and the article page.

Everything that comes from a source is escaped here, so an article containing
HTML or script shows as text and never runs. Gradio's HTML component also
treats `${...}` and `{{...}}` as template syntax, so `$`, `{` and `}` are
escaped too.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

from cqqa.answer.present import readable
from cqqa.answer.types import Answer, Citation
from cqqa.ingest.formats.base import PAGE_BREAK, page_at

_EXTRA = str.maketrans({"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"})

HEADINGS = {
    "en": ("Sources", "Closest passages: they do not say it (not citations)", "Open the article at this passage ↗"),
    "zh-Hans": ("出处", "最接近的段落：并没有说到（非引用）", "在原文中查看 ↗"),
    "zh-Hant": ("出處", "最接近的段落：並沒有說到（非引用）", "在原文中查看 ↗"),
}


SHARE_LABEL = "🔗 Link to this answer (read-only, for anyone who can open this server)"


def escape(text: str) -> str:
    return html.escape(text, quote=True).translate(_EXTRA)


def locate(text: str, start: int, end: int, sentence: str) -> tuple[int, int] | None:
    """The span of `sentence` in text[start:end], ignoring whitespace (the source may wrap lines)."""
    chars = [re.escape(c) for c in sentence if not c.isspace()]
    if not chars:
        return None
    match = re.compile(r"\s*".join(chars)).search(text, start, end)
    return (match.start(), match.end()) if match else None


def highlight(text: str, spans: list[tuple[int, int]], mark: str = "mark") -> str:
    """Escaped `text` with the (non-overlapping) spans wrapped in <mark>."""
    out, at = [], 0
    for s, e in sorted(spans):
        if s < at:
            continue
        out += [escape(text[at:s]), f"<{mark}>", escape(text[s:e]), f"</{mark}>"]
        at = e
    out.append(escape(text[at:]))
    return "".join(out)


def quote_spans(citation: Citation) -> list[tuple[int, int]]:
    """Where the quoted sentences are inside the passage text."""
    found = (locate(citation.text, 0, len(citation.text), q) for q in citation.quotes)
    return [span for span in found if span]


def place(citation: Citation) -> str:
    """Where a passage is: its article's title, its page (PDF) and its section heading."""
    return " · ".join(part for part in (citation.title, f"p. {citation.page}" if citation.page else "",
                                        citation.heading) if part)


def with_pages(body: str) -> str:
    """An article's (escaped) text with each page break shown as a marker that starts the next
    page: "— p. 2 —", with id="page-2"."""
    pages = body.split(PAGE_BREAK)
    out = [pages[0]]
    for number, page in enumerate(pages[1:], 2):
        out.append(f'<span class="page" id="page-{number}">— p. {number} —</span>{page}')
    return "".join(out)


def article_link(version: str, citation: Citation) -> str:
    query = urlencode({"start": citation.start, "end": citation.end, "q": citation.quotes}, doseq=True)
    return f"article/{quote(version)}/{quote(citation.doc)}?{query}#passage"


def sources_html(answer: Answer | None, link: str = "", notes=(), version: str | None = None) -> str:
    """The sources panel: the citations (or possibly related passages), what has changed in their
    articles since (`notes`), and the link to the answer (`link`, once it is kept); article links
    open `version` (default: the answer's own)."""
    if answer is None:
        return '<div class="cqqa-sources cqqa-empty">Sources of the answer appear here.</div>'
    cited, related, open_label = HEADINGS.get(answer.lang, HEADINGS["en"])
    items = answer.citations or answer.related
    if not items:
        return '<div class="cqqa-sources cqqa-empty"></div>'
    heading = cited if answer.citations else related
    kind = "cqqa-cite" if answer.citations else "cqqa-related"
    parts = [f'<div class="cqqa-sources"><h3>{escape(heading)}</h3>']
    parts += [f'<p class="cqqa-changed">⚠ {escape(note)}</p>' for note in notes]
    if link:
        parts.append(f'<p class="cqqa-share"><a href="{escape(link)}" target="_blank" rel="noopener noreferrer">'
                     f'{escape(SHARE_LABEL)}</a></p>')
    for c in items:
        marker = f"[{c.n}]" if answer.citations else "·"
        where = escape(place(c))
        parts.append(
            f'<div class="{kind}" data-chunk="{escape(c.chunk_id)}">'
            f'<div class="cqqa-cite-head"><span class="cqqa-n">{marker}</span> {where}</div>'
            f'<p class="cqqa-passage">{highlight(c.text, quote_spans(c))}</p>'
            f'<a class="cqqa-open" href="{escape(article_link(version or answer.index_version, c))}" target="_blank" '
            f'rel="noopener noreferrer">{escape(open_label)}</a></div>'
        )
    parts.append("</div>")
    return "".join(parts)


ARTICLE_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans CJK TC", sans-serif; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.7; color: #222; }
pre { white-space: pre-wrap; font-family: inherit; }
mark { background: #fff3b0; }
mark strong { background: #ffd54f; font-weight: normal; }
.meta { color: #666; font-size: 0.9rem; }
.page { display: block; color: #888; text-align: center; font-size: 0.85rem; border-top: 1px dashed #ccc;
        margin: 1rem 0 .5rem; }
"""


def article_html(title: str, text: str, start: int, end: int, quotes: list[str], version: str,
                 paged: bool = False) -> str:
    """The whole article as text, the passage [start, end) highlighted with id="passage"; for a
    `paged` article (PDF), the passage's page and a marker where each page begins."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))  # a malformed link (end before start) highlights nothing
    inner = [span for q in quotes if (span := locate(text, start, end, q))]
    body = (with_pages if paged else str)(escape(text[:start]) + '<mark id="passage">'
                      + highlight(text[start:end], [(s - start, e - start) for s, e in inner], "strong")
                      + "</mark>" + escape(text[end:]))
    page = f" · p. {page_at(text, start)}" if paged else ""
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{ARTICLE_CSS}</style></head><body><h1>{escape(title)}</h1>"
            f'<p class="meta">Index version {escape(version)} · characters {start}–{end}{page}</p>'
            f"<pre>{body}</pre></body></html>")


def answer_page_html(answer: Answer, answered_at: str, notes=(), version: str | None = None) -> str:
    """One kept answer, read-only (/answer/<id>): the question, the answer as it was shown, its
    citations with the quoted sentences highlighted and links into the articles."""
    cited, related, open_label = HEADINGS.get(answer.lang, HEADINGS["en"])
    items = answer.citations or answer.related
    sources = []
    for c in items:
        marker = f"[{c.n}]" if answer.citations else "·"
        sources.append(f'<div class="cite"><p class="meta">{marker} {escape(place(c))}</p>'
                       f'<pre class="passage">{highlight(c.text, quote_spans(c))}</pre>'
                       f'<a href="../{escape(article_link(version or answer.index_version, c))}">{escape(open_label)}</a>'
                       "</div>")
    changed = "".join(f'<p class="changed">⚠ {escape(note)}</p>' for note in notes)
    heading = f"<h2>{escape(cited if answer.citations else related)}</h2>" if items else ""
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{escape(answer.question)}</title>"
            f"<style>{ARTICLE_CSS}{ANSWER_CSS}</style></head><body><h1>{escape(answer.question)}</h1>"
            f'<p class="meta">Answered {escape(answered_at)} from index version {escape(answer.index_version)} '
            f"· read-only</p>{changed}<pre class=\"answer\">{escape(readable(answer))}</pre>{heading}"
            f"{''.join(sources)}</body></html>")


ANSWER_CSS = """
.answer { background: #f6f6f6; padding: .8rem 1rem; border-radius: 8px; }
.cite { border: 1px solid #ddd; border-radius: 8px; padding: .5rem .8rem; margin: .6rem 0; }
.passage mark { background: #fff3b0; }
.changed { color: #8a5300; }
"""
