"""Source formats: one module per kind of file, registered here (one line each).

`format_for(path)` is the format a file's name asks for; `identify(raw)` the binary format its
bytes really are (so that a PDF renamed .txt, or a .docx that is really a PDF, is told apart).
"""

from __future__ import annotations

from pathlib import Path

from cqqa.ingest.formats.base import PAGE_BREAK, Extracted, Format, SkippedSource, page_at
from cqqa.registry import load

REGISTERED = {
    "text": "cqqa.ingest.formats.text:TextFormat",  # .txt, .md
    "html": "cqqa.ingest.formats.html:HtmlFormat",  # saved web pages
    "pdf": "cqqa.ingest.formats.pdf:PdfFormat",
    "docx": "cqqa.ingest.formats.docx:DocxFormat",
    "image": "cqqa.ingest.formats.image:ImageFormat",  # .png .jpg .jpeg .webp .tif .tiff, by OCR
}
FORMATS: tuple[Format, ...] = tuple(load(spec)() for spec in REGISTERED.values())  # every source is identified against all


def extraction() -> dict[str, str]:
    """Each format's tag, in the index's settings: a new extractor (or OCR page limit) rebuilds it."""
    return {fmt.name: fmt.tag() for fmt in FORMATS}


BY_SUFFIX = {suffix: fmt for fmt in FORMATS for suffix in fmt.suffixes}
SUFFIXES = tuple(BY_SUFFIX)

__all__ = ["FORMATS", "SUFFIXES", "PAGE_BREAK", "Extracted", "Format", "SkippedSource", "format_for", "identify",
           "page_at"]


def format_for(path: Path) -> Format | None:
    return BY_SUFFIX.get(path.suffix.lower())


def identify(raw: bytes) -> Format | None:
    """The format `raw` is by its content: a binary one when its signature matches, else HTML
    when it looks like markup, else text when it has no NUL bytes; None for other binaries."""
    for fmt in sorted(FORMATS, key=lambda fmt: -fmt.priority):
        if fmt.sniff(raw):
            return fmt
    return None
