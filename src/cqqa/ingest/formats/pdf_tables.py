"""Tables in a PDF's text layer, as rows that read alone (pdfplumber finds the cells).

pypdf writes a table as one run of cells ("营业收入（元） 4,755,785.11 5,699,227.63 -16.55%归属于…"):
retrievable, unreadable as a quote. On a page where pdfplumber finds a table (two rows or more
of two cells or more), the page's text is its lines outside the tables plus each table where it
stands, one row per line (`base.table_lines`: "cell | cell", each cell after the first prefixed
with its column's header, so a row makes sense alone):

    营业收入（元） | 2024年: 4,755,785.11 | 2023年: 5,699,227.63 | 本年比上年增减: -16.55%

The cleaning step keeps each row a paragraph of its own (a line with " | " is never glued to the
text after it, nor taken for a heading).
"""

from __future__ import annotations

import io
import re

from cqqa.ingest.formats.base import table_lines

CJK_BREAK = re.compile(r"(?<=[^\x00-\x7f])\n(?=[^\x00-\x7f])")


NUMBER = re.compile(r"^[-+(]?[\d,.]+%?\)?$")
ROW_LINES = 3  # lines of the text layer with two numbers or more, for pdfplumber to look at the page


def looks_tabular(layer: str) -> bool:
    """Whether pypdf's text of a page looks like it holds a table: a few lines with two numbers or
    more ("营业收入（元） 4,755,785.11 5,699,227.63 -16.55%"). Prose pages skip pdfplumber (≈ 0.2 s a page)."""
    return sum(sum(bool(NUMBER.match(token)) for token in line.split()) >= 2 for line in layer.split("\n")) >= ROW_LINES


def pages_with_tables(raw: bytes, candidates: list[int]) -> dict[int, str]:
    """For each candidate page (0-based) that holds a table: its text with the tables as rows."""
    import pdfplumber

    out = {}
    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        for index in candidates:
            page = pdf.pages[index]
            tables = [(table.bbox, rows) for table in page.find_tables()
                      if _filled(cells := table.extract()) and len(rows := _rows(cells)) >= 2]
            if not tables:
                continue
            boxes = [bbox for bbox, _ in tables]
            outside = page.filter(lambda obj: not any(_inside(obj, bbox) for bbox in boxes))
            items = [(line["top"], line["text"]) for line in outside.extract_text_lines()]
            items += [(bbox[1], "\n".join(table_lines(rows))) for bbox, rows in tables]
            out[index] = "\n".join(text for _, text in sorted(items, key=lambda item: item[0]))
    return out


FILLED = 0.6  # of a table's cells with text: a box drawn around a page's layout has mostly empty ones


def _filled(table: list[list[str | None]]) -> bool:
    cells = [cell for row in table for cell in row]
    return bool(cells) and sum(bool(_cell(cell)) for cell in cells) >= FILLED * len(cells)


def _cell(text: str | None) -> str:
    return " ".join(CJK_BREAK.sub("", text or "").split())


def _rows(table: list[list[str | None]]) -> list[list[str]]:
    """The table's rows with two filled cells or more (a merged cell repeats as None: dropped)."""
    rows = [[_cell(cell) for cell in row] for row in table]
    return [row for row in rows if sum(bool(cell) for cell in row) >= 2]


def _inside(obj: dict, bbox: tuple) -> bool:
    x0, top, x1, bottom = bbox
    middle_x, middle_y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom
