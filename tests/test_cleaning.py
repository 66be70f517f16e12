
import pytest

from cqqa.ingest.chunking import chunk_document
from cqqa.ingest.cleaning import breaks_word, clean, detect_layout, ends_sentence, sections, split_lines
from cqqa.config import ChunkSettings
from cqqa.ingest.sources import load_documents

from helpers import DOCS_SRC, squash

pytestmark = pytest.mark.unit

NEWSPAPER = "chongqing-daily-ev-capital-dialogue"
FEATURE = "chongqing-ev-capital-feature"


@pytest.fixture(scope="module")
def docs():
    return {d.doc_id: d for d in load_documents(DOCS_SRC)}


@pytest.fixture(scope="module")
def chunks(docs):
    return {doc_id: chunk_document(doc, ChunkSettings()) for doc_id, doc in docs.items()}


def test_every_chunk_maps_back_to_its_original_text(docs, chunks):
    for doc_id, doc_chunks in chunks.items():
        assert doc_chunks, doc_id
        for chunk in doc_chunks:
            assert 0 <= chunk.start < chunk.end <= len(docs[doc_id].text)
            assert squash(docs[doc_id].text[chunk.start:chunk.end]) == squash(chunk.text), chunk.chunk_id


def test_chunks_cover_all_body_text(docs, chunks):
    # every character of every body paragraph lands in some chunk (overlap aside, nothing is lost)
    for doc_id, doc in docs.items():
        covered = set()
        for chunk in chunks[doc_id]:
            covered.update(range(chunk.start, chunk.end))
        for para in clean(doc.text, doc.layout):
            if para.kind == "body":
                missing = [o for o in para.offsets if o not in covered]
                assert not missing, f"{doc_id}: {para.text[:20]} not indexed"


def test_layouts_are_detected():
    feature = (DOCS_SRC / f"{FEATURE}.txt").read_text(encoding="utf-8")
    paper = (DOCS_SRC / f"{NEWSPAPER}.txt").read_text(encoding="utf-8")
    assert detect_layout(split_lines(feature)) == "lines"
    assert detect_layout(split_lines(paper)) == "wrapped"


def test_newspaper_lines_are_rejoined_inside_words(chunks):
    text = "\n".join(c.text for c in chunks[NEWSPAPER])
    # each of these is split across a line break (some across a blank line) in the original page
    for word in ["座谈会", "李书福、赛力斯", "谈经论道", "产业集群实现万亿产值", "殷亮介绍", "中信银行重庆分行党委书记",
                 "智力问题的2.0时代", "截至目前，博世氢动力已有4款氢动力模块产品"]:
        assert word in text, word


def test_newspaper_chunks_have_no_broken_lines(chunks):
    for chunk in chunks[NEWSPAPER]:
        paragraphs = chunk.text.split("\n\n")
        assert all("\n" not in p for p in paragraphs), chunk.chunk_id
        for para in paragraphs[:-1]:  # a paragraph inside a chunk is whole: it ends a sentence
            assert ends_sentence(para), (chunk.chunk_id, para[-15:])


def test_headings_and_captions_stay_out_of_chunk_text(docs, chunks):
    text = "\n".join(c.text for cs in chunks.values() for c in cs)
    for noise in ["扫一扫", "受访者供图", "圖片來源", "重庆日报首席记者", "AI的出现，让汽车从交通工具变成",
                  "关键词", "打造生態,先構建智造"]:
        assert noise not in text, noise


def test_headings_become_chunk_context(chunks):
    by_heading = {c.heading for c in chunks[NEWSPAPER]}
    assert "AI技术 AI的出现，让汽车从交通工具变成“移动智能体”" in by_heading
    # a 关键词 box labels the section above it: the CITIC Bank section is "金融赋能"
    citic = next(c for c in chunks[NEWSPAPER] if "信票通" in c.text)
    assert "金融赋能" in citic.heading
    feature_headings = {c.heading for c in chunks[FEATURE]}
    assert "車城競速賽,已有路線圖" in feature_headings


def test_chunk_ids_are_unique_and_stable(docs):
    first = [c.chunk_id for d in docs.values() for c in chunk_document(d, ChunkSettings())]
    second = [c.chunk_id for d in docs.values() for c in chunk_document(d, ChunkSettings())]
    assert first == second and len(set(first)) == len(first)


def test_chunk_sizes_respect_the_token_budget(chunks):
    from cqqa.ingest.tiktoken_offline import count_tokens

    settings = ChunkSettings()
    for doc_chunks in chunks.values():
        for chunk in doc_chunks:
            assert count_tokens(chunk.text, settings.encoding) <= settings.chunk_tokens


@pytest.mark.parametrize("text,expected", [
    ("一个抉择。", True), ("张兴海说。”", True), ("新能源沖刺130萬輛,要靠“左膀右臂”?", True),
    ("长安汽车当年的", False), ("并打造战略协同促进中心、", False),
])
def test_ends_sentence(text, expected):
    assert ends_sentence(text) is expected


def test_breaks_word():
    assert breaks_word("在助推重庆智能网联新能源汽车产", "业集群实现万亿")
    assert not breaks_word("关键词 新能源", "低碳与生态并进")


def test_wrapped_layout_on_a_small_page():
    page = "标题行\n\n第一段的文字在这里换\n行了，还没有结束\n\n而是跨过空行。\n图片来源：某某\n第二段。\n"
    paras = clean(page, "wrapped")
    kinds = [(p.kind, p.text) for p in paras]
    assert ("heading", "标题行") in kinds
    assert ("body", "第一段的文字在这里换行了，还没有结束而是跨过空行。") in kinds
    assert ("caption", "图片来源：某某") in kinds
    for p in paras:
        assert squash("".join(page[o] for o in p.offsets)) == squash(p.text)
    assert [s.heading for s in sections(paras)] == ["标题行", "标题行"]  # the caption splits the section


def test_latin_words_split_over_lines_get_a_space():
    paras = clean("The assistant answers\nquestions in English.\n", "wrapped")
    assert paras[0].text == "The assistant answers questions in English."


def test_a_line_that_fills_its_column_and_ends_a_sentence_runs_on():
    """As LibreOffice prints the feature article: the column is 20 characters wide; a sentence
    that ends exactly at the column's edge does not end the paragraph (the next line is its next
    sentence), one that ends short of it does."""
    wrapped = ["重庆今年新建了三十座超级充电站覆盖主要", "商圈和高速服务区并计划明年再建四十座以",
               "满足新能源汽车快速增长带来的充电需求而", "且每座站都配有快充桩和慢充桩供车主选择"]
    page = "\n".join(wrapped * 2 + ["今年三月两家车企各自出资一百亿元买下股权。", "不久之前它们已经完成了全部交易对价支付。",
                                    "另起一段的短句。", "这是下一段的文字。"]) + "\n"
    bodies = [p.text for p in clean(page, "wrapped") if p.kind == "body"]
    assert "今年三月两家车企各自出资一百亿元买下股权。不久之前它们已经完成了全部交易对价支付。另起一段的短句。" in bodies[0]
    assert bodies[-1] == "这是下一段的文字。"


@pytest.mark.parametrize("written,read", [("“渝鏈智擎”行動計劃(2025—2027)》", "“渝链智擎”行动计划(2025-2027)》"),
                                          ("构建‘汽车智能+北斗通导’核心技术", "构建汽车智能+北斗通导’核心技术")])
def test_evidence_matches_the_dash_and_quotation_marks_ocr_reads(written, read):
    from cqqa.textnorm import fold

    assert fold(written) == fold(read)


def test_a_caption_wrapped_onto_a_short_line_is_still_a_caption():
    """As pypdf reads the newspaper page printed in columns: the photo credit's end on a line of its own."""
    page = "9月28日，“迈向智能网联新能源汽车之都”高端对话会现场。 （受访者供\n图）\n\n在智能网联新能源汽车产业发展\n中，核心技术是关键支撑。\n"
    paras = [(p.kind, p.text) for p in clean(page, "wrapped")]
    assert ("body", "在智能网联新能源汽车产业发展中，核心技术是关键支撑。") in paras, paras
    assert [kind for kind, _ in paras].count("caption") == 2 and not any("供" in t for k, t in paras if k == "body")
