"""What every source format provides: recognise its bytes, extract the article's text.

A format turns a file's bytes into `Extracted`: the text that is indexed, shown and cited
(citations' `start`/`end` index into exactly this text, which the index keeps in
documents.jsonl), the metadata the file itself carries (a sidecar overrides it) and, for a
paged text, how many pages it has (meta["pages"]). Each page after the first starts with PAGE_BREAK (at the start of a line),
so a passage's page is found by counting (`page_at`) and the article page can show where each
page begins; the layout repair does not count it as a blank line.

A file that cannot be indexed (a scan without text, an encrypted PDF, a zip bomb) raises
`SkippedSource` with one line saying what is wrong and what to do; the build goes on without it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import SourceError
from cqqa.textnorm import CJK_PUNCT, CURLY_QUOTES, HAN, han_count

PAGE_BREAK = "\f"
CELL_SEPARATOR = " | "  # between a table row's cells, which formats write one row per line (table_lines)


class SkippedSource(SourceError):
    """A file that is left out of the index with a warning (binary, empty, too big, a scan, ...)."""


@dataclass
class Extracted:
    text: str
    meta: dict = field(default_factory=dict)  # title, date, author, publication found in the file; "pages"


class Format:
    """One kind of source file. Subclasses set the class attributes and implement both methods."""

    name = ""  # "pdf"
    label = ""  # "a PDF", for messages
    suffixes: tuple[str, ...] = ()
    version = 1  # raise it when the extracted text changes: indexes built by the old one are then rebuilt
    priority = 2  # identify() tries formats by falling priority: signatures (2), then markup (1), then text (0)

    reads_by_ocr = False  # may read pages by OCR (formats/ocr.py): CQQA_MAX_OCR_PAGES then decides the text too

    def tag(self) -> str:
        """What decides the extracted text besides the bytes (the extractor's version, the OCR page
        limit): in the extraction cache's names and the index's settings."""
        from cqqa.config import max_ocr_pages

        return f"v{self.version}-ocr{max_ocr_pages()}" if self.reads_by_ocr else f"v{self.version}"

    def sniff(self, raw: bytes) -> bool:
        """Whether `raw` is of this format, judged by its content (not its name)."""
        raise NotImplementedError

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        raise NotImplementedError

    def why_not(self, raw: bytes) -> str | None:
        """When `raw` is named like this format but is not of it, and the format can tell why
        (an encrypted Office file is no zip): the reason and the fix, else None."""
        return None


def has_text(text: str, han: int) -> bool:
    """Whether an extracted text is an article's rather than a few stray marks: `han` Han
    characters, or four times as many other letters and digits."""
    return han_count(text) >= han or sum(c.isalnum() for c in text) >= 4 * han


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as every format writes it: one line per row, cells joined by CELL_SEPARATOR, each
    cell after the first prefixed with its column's header (the first row), so that a row read
    alone, as a quote, still says what each number is:
    "营业收入（元） | 本报告期: 4,755,785.11 | 上年同期: 5,699,227.63"."""
    header, lines = rows[0], [CELL_SEPARATOR.join(cell for cell in rows[0] if cell)]
    for row in rows[1:]:
        cells = [row[0]] if row[0] else []
        for column, cell in enumerate(row[1:], 1):
            if cell:
                name = header[column] if column < len(header) else ""
                cells.append(f"{name}: {cell}" if name and name != cell else cell)
        if cells:
            lines.append(CELL_SEPARATOR.join(cells))
    return lines


def page_at(text: str, offset: int) -> int:
    """The 1-based page of `text[offset]` in a paged text."""
    return text.count(PAGE_BREAK, 0, offset) + 1


# a space between two Chinese characters: OCR text layers and some PDF generators put one
# between every character ("结 果 出 来"); Chinese is written without them
SPACED = re.compile(rf"(?<=[{HAN}{CJK_PUNCT}{CURLY_QUOTES}])[ \u00a0]+(?=[{HAN}{CJK_PUNCT}{CURLY_QUOTES}])")
RADICALS = re.compile("[\u2e80-\u2fdf]")  # Kangxi radicals and their supplement: look like Han, are not
PRIVATE = re.compile("[\ue000-\uf8ff]")  # a symbol font's glyphs (bullets, arrows): no character to show


def tidy(text: str) -> str:
    """Extracted text as a reader would type it: Kangxi radical code points as the Han
    characters they stand for (NFKC), no private-use glyphs, no space between every two
    Chinese characters, no trailing spaces, no stray page breaks."""
    text = RADICALS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text.replace(PAGE_BREAK, "\n"))
    text = PRIVATE.sub("", text)
    return "\n".join(_unspaced(line.rstrip()) for line in text.split("\n"))


def _unspaced(line: str) -> str:
    """A line written with a space between most Chinese characters, without them; other lines
    (a byline's "记者 杨骏 实习生 李俊晓") as they are."""
    gaps = len(SPACED.findall(line))
    return SPACED.sub("", line) if gaps >= 3 and gaps >= 0.6 * han_count(line) else line

