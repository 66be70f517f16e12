"""Word documents (`.docx`), by python-docx: paragraphs and tables in document order.

Each paragraph is a line (layout "lines", unless a sidecar says otherwise), so headings (short lines without closing punctuation) become
sections as in text files; a table becomes one line per row, its cells joined by " | ", each
with its column's header (`base.table_lines`; a merged cell is written once). The first paragraph in the "Title" style is the title.

Before python-docx opens it, the archive is checked: a file that unzips to more than
MAX_UNZIPPED_MB (a zip bomb) is skipped, and so is a password-protected document (it is not a
zip at all, but an encrypted OLE container). The sizes an archive declares can lie, so every
member is inflated once in steps of CHUNK bytes, counting what really comes out (zipfile stops at
the declared size and then finds the checksum wrong): no step holds more than CHUNK in memory.
Malformed XML and entity bombs (refused by libxml2) are skipped with the reason, not raised.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from cqqa.ingest.formats.base import Extracted, Format, SkippedSource, table_lines, tidy

MAX_UNZIPPED_MB = 256
MAX_RATIO = 100  # uncompressed / compressed size of one member; XML compresses 5-20x
CHUNK = 2**20
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class DocxFormat(Format):
    name, label, suffixes, version = "docx", "a Word .docx document", (".docx",), 2  # 2: headers in rows

    def sniff(self, raw: bytes) -> bool:
        if not raw.startswith(b"PK\x03\x04"):
            return False
        try:
            return "word/document.xml" in zipfile.ZipFile(io.BytesIO(raw)).namelist()
        except zipfile.BadZipFile:
            return False

    def why_not(self, raw: bytes) -> str | None:
        if raw.startswith(OLE):
            return ("is password-protected (an encrypted Word file) or an old .doc; open it in Word or LibreOffice "
                    "and save it without a password as .docx")
        return None

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        import docx
        from docx.table import Table
        from lxml import etree

        _check_archive(raw, path)
        try:
            document = docx.Document(io.BytesIO(raw))
            lines, title = [], None
            for item in document.iter_inner_content():
                if isinstance(item, Table):
                    lines.extend(_rows(item))
                    continue
                text = item.text.strip()
                if text and title is None and item.style is not None and item.style.name in ("Title", "标题"):
                    title = text
                lines.append(text)
        except (KeyError, ValueError, zipfile.BadZipFile, etree.LxmlError) as exc:
            raise SkippedSource(f"{path} is not a readable Word document ({type(exc).__name__}: {str(exc)[:120]}); "
                                "open it in Word or LibreOffice and save it again as .docx") from exc
        text = tidy("\n".join(lines)).strip("\n")
        if not text.strip():
            raise SkippedSource(f"{path} has no text")
        return Extracted(text, {"layout": "lines", **({"title": title} if title else {})})


def _check_archive(raw: bytes, path: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
        declared = sum(m.file_size for m in members)
        if declared > MAX_UNZIPPED_MB * 2**20 or any(
                m.file_size > MAX_RATIO * max(m.compress_size, 1) and m.file_size > 2**20 for m in members):
            raise _bomb(path, declared)
        inflated = 0
        for member in members:  # the declared sizes may lie: count what really comes out, a step at a time
            with archive.open(member) as stream:
                while chunk := stream.read(CHUNK):
                    inflated += len(chunk)
                    if inflated > MAX_UNZIPPED_MB * 2**20:
                        raise _bomb(path, inflated)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise SkippedSource(f"{path} is not a readable Word document (a damaged archive: {str(exc)[:80]}); open "
                            "it in Word or LibreOffice and save it again as .docx") from exc


def _bomb(path: Path, size: int) -> SkippedSource:
    return SkippedSource(f"{path} unzips to {size / 2**20:.0f} MB or more (a Word document's text is a few MB); "
                         "it looks like a zip bomb, so it was not opened")


def _rows(table) -> list[str]:
    """The table's rows as `table_lines` writes them; a merged cell (python-docx repeats it in
    every column it spans) is written once."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            text = " ".join(cell.text.split())
            cells.append("" if text == previous else text)  # the next column of a merged cell
            previous = text
        if any(cells):
            rows.append(cells)
    return table_lines(rows) if rows else []
