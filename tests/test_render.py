import pytest
"""HTML rendering of sources: everything from a source is text, spans are found despite wrapping."""

from cqqa.answer.types import Answer, Citation
from cqqa.serve.render import article_html, escape, highlight, locate, sources_html

pytestmark = pytest.mark.unit


def test_escape_neutralises_markup_and_template_syntax():
    assert escape('<img src=x onerror="a()">${x}{{y}}`') == \
        "&lt;img src=x onerror=&quot;a()&quot;&gt;&#36;&#123;x&#125;&#123;&#123;y&#125;&#125;&#96;"


def test_locate_ignores_line_wraps_in_the_source():
    text = "前言。新能源汽车产\n业集群发展迅速。后记。"
    span = locate(text, 0, len(text), "新能源汽车产业集群发展迅速。")
    assert span == (3, text.index("后记"))
    assert locate(text, 0, 5, "新能源汽车产业集群发展迅速。") is None  # outside the range


def test_highlight_marks_spans_and_escapes_the_rest():
    assert highlight("a<b>c", [(1, 4)]) == "a<mark>&lt;b&gt;</mark>c"


def test_sources_panel_marks_quotes_and_links_to_the_article():
    c = Citation(1, "doc#2", "doc", "Title<script>", "开头。<b>引用</b>的句子。结尾。", 10, 30, "", ["<b>引用</b>的句子。"])
    page = sources_html(Answer("q", "a", True, [c], index_version="v1"))
    assert "<script>" not in page and "Title&lt;script&gt;" in page
    assert "<mark>&lt;b&gt;引用&lt;/b&gt;的句子。</mark>" in page
    assert 'href="article/v1/doc?start=10&amp;end=30&amp;q=' in page
    assert 'class="cqqa-n">[1]</span>' in page


def test_article_page_highlights_the_passage_and_quote():
    text = "第一段。\n第二段有<i>引用</i>句。\n第三段。"
    start = text.index("第二段")
    page = article_html("标题", text, start, start + len("第二段有<i>引用</i>句。"), ["<i>引用</i>句。"], "v1")
    assert '<mark id="passage">第二段有<strong>&lt;i&gt;引用&lt;/i&gt;句。</strong></mark>' in page
