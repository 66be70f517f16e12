"""Tables read as tables, in every format (`base.table_lines`): one line per row, each cell with
its column's header, never glued to the text after it; and the question a table answers is
answered with its row, quoted as a row (a real 22-page quarterly report, the real embedder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import CQQA

from cqqa.ingest.cleaning import clean
from cqqa.ingest.formats.html import HtmlFormat
from cqqa.ingest.formats.pdf import PdfFormat

pytestmark = pytest.mark.unit

REPORT = Path(__file__).parent / "data" / "samples" / "pdf" / "issue-67-example.pdf"
ROW = "营业收入（元） | 本报告期: 4,755,785.11 | 上年同期: 5,699,227.63 | 本报告期比上年同期增减: -16.55%"


def test_a_pdf_table_becomes_rows_that_read_alone():
    text = PdfFormat().extract(REPORT.read_bytes(), REPORT).text
    assert ROW + "\n" in text
    assert "其中：营业收入 | 本期发生额: 4,755,785.11 | 上期发生额: 5,699,227.63" in text
    assert "4,755,785.11 5,699,227.63 -16.55%归属于" not in text  # the run pypdf made of it is gone


def test_an_html_table_becomes_rows_and_is_not_glued_to_the_next_paragraph():
    page = ("<html><body><article><h1>重庆汽车产业报告</h1><p>重庆汽车产业在今年取得了显著的增长，下面的表格列出了"
            "主要企业的销量数据，供读者参考。这是一段足够长的正文内容。</p><table><tr><th>企业</th><th>2024年销量</th>"
            "<th>同比增长</th></tr><tr><td>长安汽车</td><td>206.6万辆</td><td>8.46%</td></tr><tr><td>赛力斯</td>"
            "<td>42.7万辆</td><td>182.8%</td></tr></table><p>以上数据来自各企业公告，重庆市将继续推动智能网联新能源"
            "汽车产业发展。</p></article></body></html>")
    extracted = HtmlFormat().extract(page.encode(), Path("report.html"))
    assert "长安汽车 | 2024年销量: 206.6万辆 | 同比增长: 8.46%\n" in extracted.text
    paragraphs = [p.text for p in clean(extracted.text, "wrapped")]  # even as wrapped lines, a row stays alone
    assert "赛力斯 | 2024年销量: 42.7万辆 | 同比增长: 182.8%" in paragraphs
    assert any(p.startswith("以上数据来自各企业公告") for p in paragraphs)


@pytest.mark.integration  # the real embedder, `cqqa index` and `cqqa ask` as processes
def test_the_revenue_question_is_answered_with_the_table_row(tmp_path):
    (tmp_path / "src").mkdir()
    shutil.copy(REPORT, tmp_path / "src" / REPORT.name)
    where = ["--source", str(tmp_path / "src"), "--index", str(tmp_path / "index")]
    env = {**os.environ, "CQQA_READER": "0"}
    built = subprocess.run([CQQA, "index", *where], capture_output=True, text=True, env=env, timeout=600)
    assert built.returncode == 0, built.stderr
    for question in ("营业收入是多少？", "公司本报告期营业收入是多少？"):  # before: a lawsuit passage came first
        asked = subprocess.run([CQQA, "ask", question, "--json", *where], capture_output=True, text=True, env=env,
                               timeout=300)
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        first = answer["citations"][0]
        # the row of the key figures (p. 3) or of the income statement (p. 14): a row, with its header
        assert answer["answerable"] and first["page"] in (3, 14), answer["answer"]
        assert any("营业收入" in quote and " | 本" in quote and "4,755,785.11" in quote for quote in first["quotes"])
