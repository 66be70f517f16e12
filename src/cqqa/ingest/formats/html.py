"""Saved web pages (`.html`, `.htm`): the article's main text, without navigation, ads, comments
and footers, by trafilatura, one paragraph per line (layout "lines"); title, date, author and site name
from the page (a sidecar overrides them all). A table is one line per row (`base.table_lines`).

The page is decoded as text files are (UTF-8, else GB18030 or Big5 by how Chinese it reads:
a page's `charset` often lies). Scripts and styles are dropped by the extractor; nothing of the
page is ever run or served, only the extracted text is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from cqqa.ingest.formats.base import Extracted, Format, SkippedSource, table_lines, tidy
from cqqa.ingest.formats.text import decode

MARKUP = re.compile(rb"<(!doctype\s+html|html|head|body|meta|title|div|p)[\s>/]", re.IGNORECASE)


PRE_SHARE = 0.8  # of the body's characters, for a page to count as a text file saved as HTML


def preformatted(markup: str) -> str | None:
    """The text of a page that is one <pre> block (a text file saved as HTML, as LibreOffice
    exports one), with its line breaks and blank lines, which mark paragraphs and headings and
    which the extractor would drop; None for other pages."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(markup.encode("utf-8"))
    except (ValueError, lxml.etree.ParserError):
        return None
    body = re.sub(r"\s+", "", root.text_content())
    for pre in root.iter("pre"):
        text = pre.text_content()
        if body and len(re.sub(r"\s+", "", text)) >= PRE_SHARE * len(body):
            return text
    return None


MARKDOWN_ROW = re.compile(r"^\|(.*)\|\s*$")
MARKDOWN_RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")


def with_table_rows(text: str) -> str:
    """trafilatura's text with each table (written as Markdown, "| a | b |") as `table_lines`."""
    out, table = [], []
    for line in text.split("\n") + [""]:
        if MARKDOWN_ROW.match(line):
            if not MARKDOWN_RULE.match(line):
                table.append([cell.strip() for cell in MARKDOWN_ROW.match(line).group(1).split("|")])
            continue
        if table:
            out += table_lines(table)
            table = []
        out.append(line)
    return "\n".join(out[:-1])


class HtmlFormat(Format):
    name, label, suffixes, priority, version = "html", "an HTML page", (".html", ".htm"), 1, 2  # 2: table rows

    def sniff(self, raw: bytes) -> bool:
        return b"\x00" not in raw[:8192] and bool(MARKUP.search(raw[:65536]))

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        import trafilatura

        markup = decode(raw, path, warn)
        page = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False,
                                           include_tables=True, include_images=False, include_links=False)
        text = tidy(preformatted(markup) or with_table_rows(page.text if page is not None else "") or "")
        if not text.strip():
            raise SkippedSource(f"{path}: no article text found in this page (trafilatura found only navigation or "
                                "nothing); save the article's own page, or paste its text into a .txt file")
        fields = {"layout": "lines", "title": page.title, "date": page.date, "author": page.author,
                  "publication": page.sitename} if page is not None else {}
        return Extracted(text, {key: str(value).strip() for key, value in fields.items() if value and str(value).strip()})
