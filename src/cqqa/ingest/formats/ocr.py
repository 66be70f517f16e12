"""Text from page images, offline: RapidOCR (PP-OCRv6 detection and recognition, their ONNX
files inside the `rapidocr` wheel, run by onnxruntime), lines put back in reading order.

Used by the image format (a screenshot or photo of an article) and by the PDF format for pages
without a usable text layer (a scan). Reading order: OCR gives lines top to bottom across the
whole page, so a two-column page would interleave its columns. `in_reading_order` cuts the page
recursively (XY-cut): at a gutter no line crosses into columns read left to right, else at the
widest horizontal gap into parts read top to bottom.

An image is checked before it is decoded: more than MAX_PIXELS (a decompression bomb: a small
PNG that claims 50,000 × 50,000 pixels) is refused; a big photo is scaled down to MAX_SIDE.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cqqa.ingest.formats.base import SkippedSource
from cqqa.textnorm import HAN

MAX_PIXELS = 40_000_000  # an A4 page at 600 dpi is 35 MP
MAX_SIDE = 2400  # longer sides are scaled down to this before OCR (A4 at 200 dpi is 1654 × 2339)
MIN_SCORE = 0.5  # a line recognised with less confidence is left out
GUTTER_MIN_LINES = 2  # lines on each side of a gutter for it to count (else: a marginal note, read in place)
_engine, _lock = None, threading.Lock()
on_page = None  # on_page(done, total): before the first page (0) and after each (ingest/bounded.py tells the server)


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def engine():
    """The OCR engine, made once per process (≈ 0.3 s; its models are in the rapidocr wheel)."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr import RapidOCR

            _engine = RapidOCR(params={"Global.log_level": "error", "Global.max_side_len": MAX_SIDE})
        return _engine


def frame_count(raw: bytes, path: Path) -> int:
    """How many frames (pages) an image file holds, from its header."""
    with _opened(raw, path) as image:
        return getattr(image, "n_frames", 1)


def frames(raw: bytes, path: Path, limit: int) -> Iterator:
    """The first `limit` frames of an image file (a TIFF may hold several pages) as RGB images,
    one at a time, each refused before it is decoded when it claims more than MAX_PIXELS."""
    with _opened(raw, path) as image:
        for index in range(min(getattr(image, "n_frames", 1), limit)):
            image.seek(index)
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > MAX_PIXELS:
                raise _bomb(path, f"{width} × {height} pixels")
            yield image.convert("RGB")


@contextmanager
def _opened(raw: bytes, path: Path):
    """The image, opened (its header read, nothing decoded); what Pillow says of a file it cannot
    read (or of a bomb) as SkippedSource."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            yield image
    except Image.DecompressionBombError as exc:  # Pillow's own check, on opening: past twice its limit
        claimed = re.search(r"(\d+) pixels", str(exc))
        raise _bomb(path, f"{claimed.group(1)} pixels" if claimed else "too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SkippedSource(f"{path} is not a readable image ({type(exc).__name__}: {str(exc)[:100]})") from exc


def _bomb(path: Path, size: str) -> SkippedSource:
    return SkippedSource(f"{path} claims {size}, more than any page needs (a decompression bomb?); it was not "
                         "opened. Save the page at a normal resolution")


def read(image) -> list[Line]:
    """The lines OCR finds in a PIL image, in the order it gives them."""
    import numpy as np

    result = engine()(np.asarray(image))
    if result.boxes is None:
        return []
    return [Line(float(min(p[0] for p in box)), float(min(p[1] for p in box)), float(max(p[0] for p in box)),
                 float(max(p[1] for p in box)), text.strip())
            for box, text, score in zip(result.boxes, result.txts, result.scores)
            if text.strip() and score >= MIN_SCORE]


# OCR writes ASCII punctuation in Chinese text ("董事长(创始人)", "憑何有此底氣?"); a Chinese page prints
# the full-width forms: beside a Han character, they are written so
NEAR_HAN = re.compile(rf"(?<=[{HAN}])[,:;?!)]|[,:;?!(](?=[{HAN}])")
FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}


def chinese_punctuation(line: str) -> str:
    return NEAR_HAN.sub(lambda match: FULL_WIDTH[match.group()], line)


def page_text(image) -> str:
    """A page image's text, one line per OCR line, in reading order."""
    return "\n".join(chinese_punctuation(line.text) for line in in_reading_order(read(image)))


def paced(pages: Iterable, total: int, label: str) -> Iterator:
    """`pages` (the `total` pages about to be OCR'd), with a progress bar and estimate in a
    terminal, and `on_page` told before the first page and after each."""
    from tqdm import tqdm

    if on_page is not None:
        on_page(0, total)
    for done, page in enumerate(tqdm(pages, total=total, desc=f"OCR {label[-30:]}", unit="page", leave=False,
                                     disable=None), 1):
        yield page
        if on_page is not None:
            on_page(done, total)


def in_reading_order(lines: list[Line], width: float = 0.0) -> list[Line]:
    """The lines in the order a reader reads them, by recursive XY-cut: where a vertical gap runs
    through the whole region (a gutter no line crosses), the columns left to right, each read on
    its own; else cut at the widest horizontal gap (under a headline that spans the columns,
    between a story and the next) and read the parts top to bottom. `width` is not needed; kept
    for callers that pass the page's."""
    if len(lines) < 2:
        return list(lines)
    gutter = _widest_gap([(line.x0, line.x1) for line in lines])
    if gutter is not None:
        left = [line for line in lines if line.x1 <= gutter]
        right = [line for line in lines if line.x0 >= gutter]
        if len(left) >= GUTTER_MIN_LINES and len(right) >= GUTTER_MIN_LINES:
            return in_reading_order(left) + in_reading_order(right)
    cut = _widest_gap([(line.y0, line.y1) for line in lines])
    if cut is None:
        return sorted(lines, key=lambda line: (line.y0, line.x0))
    return (in_reading_order([line for line in lines if line.y1 <= cut])
            + in_reading_order([line for line in lines if line.y0 >= cut]))


def _widest_gap(spans: list[tuple[float, float]]) -> float | None:
    """The middle of the widest gap between the spans (covered by none of them), or None."""
    best, reach, found = 0.0, None, None
    for start, end in sorted(spans):
        if reach is not None and start - reach > best:
            best, found = start - reach, (start + reach) / 2
        reach = end if reach is None else max(reach, end)
    return found
