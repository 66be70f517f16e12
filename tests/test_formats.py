"""Source formats (ingest/formats/): real third-party Chinese files (../shared/samples, copied into
tests/data/samples) and files made here with the formats' own writers (pypdf, python-docx)."""

import dataclasses
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from fakes import FakeEmbedder
from helpers import squash

from cqqa.config import ChunkSettings, Settings
from cqqa.errors import SourceError
from cqqa.index.build import build_index
from cqqa.index.stores.local import load_index
from cqqa.ingest.chunking import chunk_document
from cqqa.ingest.formats import PAGE_BREAK, SkippedSource, identify
from cqqa.ingest.formats.base import tidy
from cqqa.ingest.sources import discover, load_documents, read_document

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).parent / "data" / "samples"


def sample(name: str):
    path = SAMPLES / name
    return read_document(path, path.parent)


@pytest.mark.parametrize("name,expected", [
    ("pdf/issue-67-example.pdf", "东北电气发展股份有限公司"),
    ("pdf/test_rearch_report.pdf", "金刚线"),
    ("pdf/test_4182.pdf", "洛天依"),
    ("html/test_schema_list.html", "行政院副院長鄭文燦今天表示"),
    ("html/youth/source.html", "不少学子在出国前就每年守在电脑前观看两会直播"),
    ("html/qq/source.html", "可微神经计算机"),
    ("docx/行标编制说明.docx", "本标准来源于国家能源局2021年下达的能源行业核电标准制修订计划"),
])
def test_real_files_give_their_text_and_exact_offsets(name, expected):
    doc = sample(name)
    assert expected in doc.text
    chunks = chunk_document(doc, ChunkSettings())
    assert chunks
    for chunk in chunks:  # a citation's span is exactly its text in what documents.jsonl keeps
        assert squash(doc.text[chunk.start:chunk.end]) == squash(chunk.text)
    assert any(expected in squash(c.text) for c in chunks)


def test_pdf_pages_are_kept_and_every_chunk_knows_its_page():
    import pypdf

    doc = sample("pdf/issue-67-example.pdf")
    reader = pypdf.PdfReader(SAMPLES / "pdf" / "issue-67-example.pdf")
    assert doc.paged and doc.text.count(PAGE_BREAK) == len(reader.pages) - 1 == 21
    assert doc.title == "issue-67-example"  # no title of its own: the file's name, not a table cell
    chunks = chunk_document(doc, ChunkSettings())
    assert {c.page for c in chunks} >= set(range(3, 20))
    # the running header on every page ("… 2018 年第一季度报告全文") and the page numbers are dropped
    assert not any("报告全文" in c.heading or "报告全文" in c.text for c in chunks)
    # its tables as rows that read alone (pdfplumber), the row never glued to the text after it
    assert "营业收入（元） | 本报告期: 4,755,785.11 | 上年同期: 5,699,227.63 | 本报告期比上年同期增减: -16.55%\n" in doc.text
    for chunk in chunks:  # the chunk's first words are on that page of the PDF, by pypdf's own reading
        first_cell = chunk.text.split("\n")[0].split(" | ")[0]  # (a paragraph may run on to the next page)
        first_line = squash(first_cell.split(": ", 1)[-1])[:6]  # a table row: its first cell, without the header
        assert first_line in squash(tidy(reader.pages[chunk.page - 1].extract_text())), chunk.chunk_id


def test_two_column_pdf_keeps_each_column_together():
    doc = sample("pdf/test_rearch_report.pdf")  # page 1: a sidebar column beside the body
    text = squash(doc.text.split(PAGE_BREAK)[0])
    # a body sentence that wraps over lines comes out whole, not interleaved with the sidebar's lines
    assert "目前36线单GW切割线耗约50万公里，较38线提升约30%。" in text
    assert text.index("证券分析师") < text.index("相关研究") < text.index("投资要点")  # sidebar, then body


def test_ocr_text_layer_loses_its_spaces_between_characters():
    doc = sample("pdf/complex_layout.pdf")
    assert "结果出来要" in doc.text and "结 果" not in doc.text
    assert tidy("记者 杨骏 实习生 李俊晓") == "记者 杨骏 实习生 李俊晓"  # a byline's deliberate spaces stay


def test_html_drops_navigation_scripts_and_reads_the_page_metadata():
    doc = sample("html/pixnet/source.html")  # a blog page with 113 scripts and ad blocks
    assert "美樹" in doc.text
    for junk in ("function(", "<script", "googletag", "document.write"):
        assert junk not in doc.text
    assert doc.meta["date"] == "2013-12-28"
    news = sample("html/test_schema_list.html")
    assert news.meta["title"].startswith("鄭文燦：多元方案解決蛋荒") and news.meta["date"] == "2023-02-21"
    assert "中央社" in news.meta["publication"] or "中央通訊社" in news.meta["publication"]


def test_html_whose_charset_lies_is_read_by_its_bytes():
    doc = sample("html/qq/source.html")  # says gb2312, is UTF-8
    assert "人工智能" in doc.text and "\ufffd" not in doc.text


def test_sidecar_overrides_what_the_file_says(tmp_path):
    shutil.copy(SAMPLES / "html" / "test_schema_list.html", tmp_path / "egg.html")
    (tmp_path / "egg.meta.toml").write_text('title = "蛋荒"\n', encoding="utf-8")
    doc = read_document(tmp_path / "egg.html", tmp_path)
    assert doc.title == "蛋荒" and doc.meta["date"] == "2023-02-21"


def _docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("重庆汽车产业报告", style="Title")
    document.add_heading("产销规模", level=1)
    document.add_paragraph("2025年前三季度，重庆汽车产量达到198.3万辆，同比增长7.6%。")
    document.add_heading("主要企业", level=1)
    document.add_paragraph("长安汽车和赛力斯是重庆汽车产业的两大支柱。")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "企业", (0, 1): "销量", (1, 0): "长安汽车", (1, 1): "206.6万辆"}.items():
        table.cell(r, c).text = text
    document.save(str(path))


def test_docx_headings_become_sections_and_tables_rows(tmp_path):
    _docx(tmp_path / "report.docx")
    doc = read_document(tmp_path / "report.docx", tmp_path)
    assert doc.title == "重庆汽车产业报告"
    assert "企业 | 销量\n长安汽车 | 销量: 206.6万辆" in doc.text  # the header carried: the row reads alone
    chunks = chunk_document(doc, ChunkSettings())
    heading_of = {text: c.heading for c in chunks for text in ("198.3万辆", "206.6万辆") if text in c.text}
    assert heading_of["198.3万辆"].endswith("产销规模") and heading_of["206.6万辆"] == "主要企业"


def test_a_docx_that_unzips_to_a_bomb_is_not_opened(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * (40 * 2**20))
    (tmp_path / "bomb.docx").write_bytes(buffer.getvalue())
    with pytest.raises(SkippedSource, match="zip bomb"):
        read_document(tmp_path / "bomb.docx", tmp_path)


def _pdf_with_text(path: Path, password: str | None = None, owner: str = "owner") -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=SAMPLES / "pdf" / "test_4182.pdf")
    if password is not None:
        writer.encrypt(user_password=password, owner_password=owner, algorithm="RC4-128")
    with open(path, "wb") as out:
        writer.write(out)


@pytest.mark.integration  # the blank page goes to the real OCR
def test_blank_and_encrypted_pdfs_are_skipped_with_one_line(tmp_path):
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    with open(tmp_path / "scan.pdf", "wb") as out:
        writer.write(out)
    _pdf_with_text(tmp_path / "locked.pdf", password="secret")
    _pdf_with_text(tmp_path / "print-only.pdf", password="")  # no password to open: readable, as in any viewer
    warnings = []
    docs = load_documents(tmp_path, warn=warnings.append)
    assert [d.doc_id for d in docs] == ["print-only"] and "洛天依" in docs[0].text
    assert any("scan.pdf has no text, not even by OCR" in w for w in warnings)
    assert any("locked.pdf is encrypted" in w for w in warnings)


def test_files_that_lie_about_their_type_are_refused(tmp_path):
    shutil.copy(SAMPLES / "pdf" / "test_4182.pdf", tmp_path / "paper.txt")
    (tmp_path / "notes.pdf").write_text("这不是PDF，只是文字。\n", encoding="utf-8")
    shutil.copy(SAMPLES / "pdf" / "test_4182.pdf", tmp_path / "report.docx")
    warnings = []
    assert load_documents(tmp_path, warn=warnings.append) == []
    assert any("paper.txt is named like a text file but its content is a PDF; rename it to .pdf" in w for w in warnings)
    assert any("notes.pdf is named like a PDF but its content is a text file" in w for w in warnings)
    assert any("report.docx is named like a Word .docx document but its content is a PDF" in w for w in warnings)
    assert identify(b"\x00\x01binary") is None
    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)  # encrypted Office
    with pytest.raises(SkippedSource, match="locked.docx is password-protected .* save it without a password"):
        read_document(tmp_path / "locked.docx", tmp_path)


def test_a_pdf_beside_a_txt_of_the_same_name_stops_the_build(tmp_path):
    (tmp_path / "a.txt").write_text("文章", encoding="utf-8")
    shutil.copy(SAMPLES / "pdf" / "test_4182.pdf", tmp_path / "a.pdf")
    with pytest.raises(SourceError, match="would both be the article 'a'"):
        discover(tmp_path)


def test_every_format_indexes_incrementally_with_pages_in_the_index(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SAMPLES / "pdf" / "issue-67-example.pdf", src / "report.pdf")
    shutil.copy(SAMPLES / "html" / "youth" / "source.html", src / "youth.html")
    _docx(src / "cq.docx")
    settings = dataclasses.replace(Settings(), source_dir=src, index_dir=tmp_path / "idx",
                                   model=FakeEmbedder.identity.name)
    first = build_index(settings, embedder_factory=FakeEmbedder)
    assert first.docs == 3 and sorted(first.added) == ["cq", "report", "youth"]
    index = load_index(settings.index_dir)
    pages = {c.page for c in index.chunks if c.doc_id == "report"}
    assert max(pages) >= 20 and {c.page for c in index.chunks if c.doc_id != "report"} == {0}
    for chunk in index.chunks:  # offsets into the kept text, for every format
        assert squash(index.document_text(chunk.doc_id)[chunk.start:chunk.end]) == squash(chunk.text)
    _docx(src / "cq.docx")  # the same content saved again: new bytes (timestamps), same chunks
    (src / "youth.meta.toml").write_text('title = "留学生看两会"\n', encoding="utf-8")
    again = build_index(settings, embedder_factory=FakeEmbedder)
    assert again.embedded_chunks == 0 and "report" not in again.changed and "youth" in again.changed
    assert load_index(settings.index_dir).document_meta("youth")["title"] == "留学生看两会"


def test_a_pdf_is_parsed_once_per_content_on_this_machine(tmp_path, monkeypatch):
    from cqqa.ingest import sources
    from cqqa.ingest.formats.pdf import PdfFormat

    monkeypatch.setenv("CQQA_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copy(SAMPLES / "pdf" / "test_4182.pdf", tmp_path / "paper.pdf")
    first = read_document(tmp_path / "paper.pdf", tmp_path)
    sources._extracted.clear()  # as a new process starts

    def parse_again(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(PdfFormat, "extract", parse_again)
    again = read_document(tmp_path / "paper.pdf", tmp_path)  # from $CQQA_CACHE_DIR/extracted/
    assert (again.text, again.meta) == (first.text, first.meta)
    sources._extracted.clear()
    monkeypatch.setattr(PdfFormat, "version", PdfFormat.version + 1)  # a new extractor reads it again
    with pytest.raises(AssertionError, match="parsed again"):
        read_document(tmp_path / "paper.pdf", tmp_path)
