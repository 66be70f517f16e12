"""Images of articles (`.png`, `.jpg`, `.jpeg`, `.webp`, `.tif`, `.tiff`): a screenshot, a photo
or a scan of a page, read by OCR (formats/ocr.py), offline. Each frame of a multi-page TIFF is a
page. The lines are the page's lines (layout "wrapped", as a PDF's), in reading order, columns
apart. An image with no text in it (a photo of a car) is skipped with one line saying so.
"""

from __future__ import annotations

from pathlib import Path

from cqqa.config import max_ocr_pages
from cqqa.ingest.formats.base import PAGE_BREAK, Extracted, Format, SkippedSource, has_text, tidy

SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
MIN_TEXT_CHARS = 10  # Han characters (or 4x as many other letters) for an image to count as an article


class ImageFormat(Format):
    name, label, suffixes = "image", "an image", (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")
    reads_by_ocr = True

    def sniff(self, raw: bytes) -> bool:
        return raw.startswith(SIGNATURES) or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP")

    def extract(self, raw: bytes, path: Path, warn=lambda message: None) -> Extracted:
        from cqqa.ingest.formats import ocr
        from cqqa.ingest.formats.pdf import paragraphs

        count, limit = ocr.frame_count(raw, path), max_ocr_pages()
        if count > limit:
            warn(f"{path}: only its first {limit} pages are read by OCR (CQQA_MAX_OCR_PAGES); split it to index the rest")
        pages = [tidy(ocr.page_text(frame)).strip("\n")  # one decoded frame in memory at a time
                 for frame in ocr.paced(ocr.frames(raw, path, limit), min(count, limit), path.name)]
        text = f"\n{PAGE_BREAK}".join(paragraphs(pages))
        if not has_text(text, MIN_TEXT_CHARS):
            raise SkippedSource(f"{path}: no text found in this image (a photo, not a page?); it was not indexed")
        meta = {"layout": "wrapped", "title": path.stem}
        if len(pages) > 1:
            meta["pages"] = len(pages)
        return Extracted(text, meta)
