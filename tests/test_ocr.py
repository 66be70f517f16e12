"""Scans and images read by the real OCR (formats/ocr.py, RapidOCR with the models in its wheel):
born-digital sample pages rendered to images, so the truth is their text layer; the two-column
page's reading order; a scanned PDF with its pages; and the bad inputs (a decompression bomb, a
picture with no writing)."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest

from cqqa.ingest.formats import SkippedSource
from cqqa.ingest.formats.image import ImageFormat
from cqqa.ingest.formats.ocr import Line, in_reading_order
from cqqa.ingest.formats.pdf import PdfFormat
from cqqa.ingest.sources import extract

pytestmark = pytest.mark.integration  # the real OCR models

SAMPLES = Path(__file__).parent / "data" / "samples" / "pdf"


def rendered(pdf: Path, index: int = 0, scale: float = 2.0):
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(str(pdf))[index].render(scale=scale).to_pil().convert("RGB")


def png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def han_and_digits(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff0-9]", text))


def agreement(ocr: str, truth: str) -> float:
    """Han and digits in common, as an F1 over character counts: a text layer may hold the page's
    parts in another order than its reading order (a title written last)."""
    got, want = Counter(han_and_digits(ocr)), Counter(han_and_digits(truth))
    common = sum((got & want).values())
    return 2 * common / max(sum(got.values()) + sum(want.values()), 1)


@pytest.mark.unit
def test_columns_are_read_one_after_the_other_below_a_headline():
    headline = Line(50, 10, 950, 40, "标题横跨两栏")
    left = [Line(50, 60 + 30 * i, 480, 85 + 30 * i, f"左{i}") for i in range(5)]
    right = [Line(520, 60 + 30 * i, 950, 85 + 30 * i, f"右{i}") for i in range(5)]
    footer = Line(50, 300, 950, 320, "通栏结尾")
    shuffled = [headline, *[line for pair in zip(left, right) for line in pair], footer]  # as OCR gives them
    assert [line.text for line in in_reading_order(shuffled)] == (
        ["标题横跨两栏", *[f"左{i}" for i in range(5)], *[f"右{i}" for i in range(5)], "通栏结尾"])
    one_column = [Line(50, 10 + 30 * i, 950 - 100 * (i % 2), 35 + 30 * i, str(i)) for i in range(6)]
    assert in_reading_order(one_column) == one_column


def test_an_image_of_a_born_digital_page_reads_as_its_text_layer():
    pdf = SAMPLES / "test_4182.pdf"
    truth = extract(pdf.read_bytes(), pdf).text
    got = ImageFormat().extract(png(rendered(pdf)), Path("page.png"))
    assert agreement(got.text, truth) >= 0.98, got.text[:300]
    assert got.meta["layout"] == "wrapped"


def test_the_two_column_page_keeps_each_column_together():
    got = ImageFormat().extract(png(rendered(SAMPLES / "complex_layout.pdf")), Path("page.png")).text
    flat = re.sub(r"\s+", "", got)
    # the left column's sentence runs on across its lines; the right column's first line comes later
    assert "我领着阳阳在这个城市的游乐园游玩，看着他坐在旋转木马上" in flat, got[:500]
    assert flat.index("旋转木马") < flat.index("阳阳病愈后")


def test_a_scanned_pdf_is_read_by_ocr_with_its_pages(tmp_path):
    import pypdf

    pdf = SAMPLES / "issue-67-example.pdf"
    pages = [rendered(pdf, index, 2.0) for index in (3, 4)]
    scan = io.BytesIO()
    pages[0].save(scan, "PDF", save_all=True, append_images=pages[1:], resolution=144)
    got = PdfFormat().extract(scan.getvalue(), Path("scan.pdf"))
    assert got.meta["pages"] == 2 and got.text.count("\f") == 1
    layers = [pypdf.PdfReader(pdf).pages[index].extract_text() for index in (3, 4)]  # the truth, page by page
    for ocr_page, layer in zip(got.text.split("\f"), layers):
        assert agreement(ocr_page, layer) >= 0.98, ocr_page[:300]


@pytest.mark.parametrize("width,height,said", [(50_000, 50_000, "2500000000 pixels"),  # past Pillow's own limit
                                                (8_000, 6_000, "8000 × 6000 pixels")])  # past ours (40 MP)
def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(width, height, said):
    small = bytearray(png(rendered(SAMPLES / "test_4182.pdf", scale=0.2)))
    small[16:24] = struct.pack(">II", width, height)  # the IHDR's width and height
    small[29:33] = struct.pack(">I", zlib.crc32(bytes(small[12:29])))  # with a valid checksum
    with pytest.raises(SkippedSource, match=f"claims {said}.*decompression bomb"):
        ImageFormat().extract(bytes(small), Path("bomb.png"))


def test_a_picture_without_writing_is_skipped_with_one_line():
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    with pytest.raises(SkippedSource, match="no text found in this image"):
        ImageFormat().extract(png(gradient), Path("sky.png"))


def blank_scan(pages: int) -> bytes:
    """An image-only PDF of `pages` blank pages (what OCR reads is stubbed by the caller)."""
    from PIL import Image

    images = [Image.new("RGB", (420, 595), "white") for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=50)
    return out.getvalue()


@pytest.mark.unit  # OCR itself stubbed: what is kept when a page fails, and the page limit
def test_a_page_that_fails_ocr_is_left_out_with_a_warning_naming_it(monkeypatch):
    from cqqa.ingest.formats import ocr

    read = iter(["第一页：重庆今年新建了三十座超级充电站，覆盖主要商圈。", RuntimeError("model failed"),
                 "第三页：长安汽车今年前三季度累计销量为二百零六万辆。"])

    def page_text(image):
        result = next(read)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(ocr, "page_text", page_text)
    warnings: list[str] = []
    got = PdfFormat().extract(blank_scan(3), Path("scan.pdf"), warnings.append)
    pages = got.text.split("\f")
    assert "超级充电站" in pages[0] and pages[1].strip() == "" and "长安汽车" in pages[2]
    assert any("page 2 could not be read by OCR (RuntimeError)" in w for w in warnings), warnings


@pytest.mark.unit
def test_a_scan_longer_than_the_ocr_limit_is_read_up_to_it_and_says_so(monkeypatch):
    from cqqa.ingest.formats import ocr, pdf

    read = iter(["第一页：重庆今年新建了三十座超级充电站，覆盖主要商圈和服务区。", "第二页：长安汽车前三季度销量增长。"])
    monkeypatch.setattr(ocr, "page_text", lambda image: next(read))  # a third call would raise StopIteration
    monkeypatch.setenv("CQQA_MAX_OCR_PAGES", "2")
    warnings: list[str] = []
    got = PdfFormat().extract(blank_scan(3), Path("long.pdf"), warnings.append)
    assert got.meta["pages"] == 3 and got.text.split("\f")[2].strip() == ""
    assert any("3 pages need OCR; only the first 2 are read" in w for w in warnings), warnings
    assert not any("could not be read" in w for w in warnings)  # the third page was never given to OCR
