"""PDF (`.pdf`): the text layer of each page, in reading order, by pypdf; a page without a
usable text layer (a scan, or glyphs without a ToUnicode map) is rendered (pypdfium2) and read
by OCR (formats/ocr.py), at most CQQA_MAX_OCR_PAGES of them, with a progress bar in a terminal. A
page that holds a table is read by pdfplumber instead, the table as rows (formats/pdf_tables.py).

pypdf keeps columns apart (a two-column page comes out column by column), and so does the OCR's
reading order; its lines are the page's lines, so the layout is "wrapped" (unless a sidecar says
otherwise) and the repair of the newspaper-page article joins them into paragraphs. Pages are
separated by a page break, so every chunk knows its page. Text layers from OCR or some
generators put a space between Chinese characters; it is removed (`tidy`).

The title is the PDF's own (when it has Chinese in it) or else the file's name (a sidecar
overrides both). Not indexed, with one line saying why: an encrypted PDF that needs a password, a
PDF in which even OCR finds no text, a file pypdf cannot parse. A page that fails is left out
with a warning naming it; the rest is kept.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

from cqqa.ingest.formats.base import PAGE_BREAK, Extracted, Format, SkippedSource, has_text, tidy
from cqqa.config import max_ocr_pages
from cqqa.textnorm import han_count, width

MIN_TEXT_CHARS = 20  # Han characters (or 4x as many other letters) for a PDF to count as having text


class PdfFormat(Format):
    name, label, suffixes, version = "pdf", "a PDF", (".pdf",), 4  # 2: the file's name as title; 3: OCR, tables; 4: headings after full lines
    reads_by_ocr = True

    def sniff(self, raw: bytes) -> bool:
        return b"%PDF-" in raw[:1024]

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        import logging

        import pypdf
        from pypdf.errors import PyPdfError

        logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are about the file's syntax, not ours
        try:
            reader = pypdf.PdfReader(io.BytesIO(raw))
            if reader.is_encrypted and not _unlock(reader):
                raise SkippedSource(f"{path} is encrypted (it needs a password to open); cqqa cannot read it: "
                                    "save an unencrypted copy and add that")
            layers = [_page_text(page, number, path, warn) for number, page in enumerate(reader.pages, 1)]
            layers = _with_tables(raw, layers, path, warn)
            pages = paragraphs(without_running_lines(_with_ocr(raw, layers, path, warn)))
            title = (reader.metadata or {}).get("/Title")
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise SkippedSource(f"{path} is not a readable PDF ({type(exc).__name__}: {str(exc)[:120]}); "
                                "open it in a PDF viewer and save or print it to a new PDF") from exc
        text = f"\n{PAGE_BREAK}".join(pages)  # the break starts the next page's first line
        if not has_text(text, MIN_TEXT_CHARS):
            raise SkippedSource(f"{path} has no text, not even by OCR (blank pages, or pictures without "
                                "writing); it was not indexed")
        empty = [str(n) for n, page in enumerate(pages, 1) if not page.strip()]
        if empty:
            warn(f"{path}: page(s) {', '.join(empty[:10])}{' …' if len(empty) > 10 else ''} have no text, "
                 "not even by OCR; they are left out")
        meta = {"layout": "wrapped", "pages": len(pages)}  # a PDF's lines are the page's lines: paragraphs and sentences run across them
        # the PDF's own title when it names something ("Microsoft Word - x.doc" does not), else the
        # file's name: a PDF's first line is as often a table cell or a running header as a title
        meta["title"] = title.strip() if isinstance(title, str) and han_count(title) >= 2 else path.stem
        return Extracted(text, meta)


def _unlock(reader) -> bool:
    """Open a PDF that is encrypted with an empty user password (only printing or copying is
    restricted), as every viewer does; False when it needs a real password."""
    from pypdf.errors import DependencyError

    try:
        return bool(reader.decrypt(""))
    except (DependencyError, NotImplementedError, ValueError):
        return False


SHORT_LINE = 0.8  # of the page's full line width: a shorter line ends its paragraph (or is a heading)


def paragraphs(pages: list[str]) -> list[str]:
    """A page's lines with a blank line after each paragraph's last line (short, ending a
    sentence) and around each heading (short and unpunctuated, right after a sentence's end or
    another heading).
    A PDF has no blank lines between paragraphs; the layout repair (cleaning.py, "wrapped") reads
    these as text files' blank lines: it joins a paragraph's lines and finds headings as short
    unpunctuated blocks. A short line inside a paragraph (text that was already wrapped, a line
    cut by a figure) gets none, so it is not mistaken for a heading. A paragraph runs on across
    a page break."""
    from cqqa.ingest.cleaning import ends_sentence, full_width  # here: cleaning imports this package

    out, after_break, ended = [], True, True
    for text in pages:
        lines = text.split("\n")
        if sum(bool(line.strip()) for line in lines) < 4:
            out.append(text)
            continue
        full = full_width(lines)
        page = []
        for line in lines:
            if not line.strip():
                page.append(line)
                continue
            short, ends = width(line) < SHORT_LINE * full, ends_sentence(line)
            if short and not ends and ended and not after_break:  # a heading after a paragraph that filled its last line
                page.append("")
            page.append(line)
            after_break, ended = short and (ends or after_break or ended), ends
            if after_break:
                page.append("")
        out.append("\n".join(page).strip("\n"))
    return out


PAGE_NUMBER = re.compile(r"^[-–—\s]*(第\s*)?\d{1,4}(\s*页)?(\s*/\s*\d{1,4})?[-–—\s]*$")
EDGE_LINES = 2  # running headers and footers sit in a page's first and last lines


def without_running_lines(pages: list[str]) -> list[str]:
    """Pages without their running headers and footers: a line among a page's first or last
    EDGE_LINES that recurs at the edge of at least half of the pages (3 or more), and a bare page
    number there ("3", "- 3 -", "第3页"). They would otherwise become every section's heading."""
    def edges(lines: list[str]) -> list[str]:
        filled = [line.strip() for line in lines if line.strip()]
        return filled[:EDGE_LINES] + filled[-EDGE_LINES:]

    def key(line: str) -> str:  # a page read by pdfplumber (a table on it) spaces a line differently
        return re.sub(r"\s+", "", line)

    split = [page.split("\n") for page in pages]
    counts = Counter(key(line) for lines in split for line in {key(edge) for edge in edges(lines)})
    running = {line for line, n in counts.items() if len(pages) >= 3 and n >= len(pages) / 2}
    out = []
    for lines in split:
        edge = {key(line) for line in edges(lines)}
        out.append("\n".join(line for line in lines if not (key(line) in edge and (
            key(line) in running or PAGE_NUMBER.match(line.strip())))).strip("\n"))
    return out


OCR_SCALE = 2.0  # pixels per point: an A4 page becomes 1190 × 1684 (144 dpi)
# Han (and the Kangxi radicals tidy() maps to Han), Latin letters and digits, CJK and general
# punctuation, full-width forms
READABLE = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\u2e80-\u2fdf\u3000-\u303f\u2000-\u206f\uff00-\uffef"
                      r"0-9A-Za-z%.,;:?!()'\"/+*=<>#&@\[\]\-]")


def usable(layer: str) -> bool:
    """Whether a page's text layer can be used as it is: some text, mostly characters a reader
    would write (glyph codes without a ToUnicode map come out as private-use or odd symbols)."""
    filled = [c for c in layer if not c.isspace()]
    readable = sum(bool(READABLE.match(c)) for c in filled)
    return (han_count(layer) >= MIN_TEXT_CHARS // 2 or readable >= 2 * MIN_TEXT_CHARS) and readable >= 0.8 * len(filled)


def _with_tables(raw: bytes, layers: list[str], path: Path, warn) -> list[str]:
    """The layers, where a page holds a table, with the table as rows (pdf_tables.py)."""
    from cqqa.ingest.formats.pdf_tables import looks_tabular, pages_with_tables

    candidates = [index for index, layer in enumerate(layers) if looks_tabular(layer)]
    if not candidates:
        return layers
    try:
        found = pages_with_tables(raw, candidates)
    except Exception as exc:  # noqa: BLE001 - pdfplumber's failure leaves pypdf's text, tables as runs
        warn(f"{path}: its tables could not be read as rows ({type(exc).__name__}); their text is kept as it is")
        return layers
    return [found.get(index, layer) for index, layer in enumerate(layers)]


def _with_ocr(raw: bytes, layers: list[str], path: Path, warn) -> list[str]:
    """Each page's text: its layer (tidied) where usable, else what OCR reads on the rendered page."""
    scans = [index for index, layer in enumerate(layers) if not usable(layer)]
    pages = [tidy(layer).strip("\n") if index not in scans else "" for index, layer in enumerate(layers)]
    if not scans:
        return pages
    import pypdfium2 as pdfium

    from cqqa.ingest.formats import ocr

    limit = max_ocr_pages()
    if len(scans) > limit:
        warn(f"{path}: {len(scans)} pages need OCR; only the first {limit} are read (about 5 s a page; "
             "CQQA_MAX_OCR_PAGES); split the PDF to index the rest")
        scans = scans[:limit]
    document = pdfium.PdfDocument(raw)
    for index in ocr.paced(scans, len(scans), path.name):
        try:
            page = document[index]
            scale = min(OCR_SCALE, ocr.MAX_SIDE / max(page.get_size()))
            pages[index] = tidy(ocr.page_text(page.render(scale=scale).to_pil().convert("RGB"))).strip("\n")
        except Exception as exc:  # noqa: BLE001 - one page's failure leaves the others
            warn(f"{path}: page {index + 1} could not be read by OCR ({type(exc).__name__}); it is left out")
    return pages


def _page_text(page, number: int, path: Path, warn) -> str:
    """The page's text layer as pypdf reads it (not tidied: `usable` judges it first)."""
    try:
        return (page.extract_text() or "").strip("\n")
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on a broken page; the others still count
        warn(f"{path}: page {number} could not be read ({type(exc).__name__}); it is left out")
        return ""
