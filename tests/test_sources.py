import pytest

from cqqa.errors import SourceError
from cqqa.sources import discover, load_documents, read_document

from conftest import DOCS_SRC


def test_docs_src_has_both_articles_with_metadata():
    docs = {d.doc_id: d for d in load_documents(DOCS_SRC)}
    assert set(docs) == {"chongqing-ev-capital-feature", "chongqing-daily-ev-capital-dialogue"}
    assert docs["chongqing-ev-capital-feature"].meta["script"] == "zh-Hant"
    assert docs["chongqing-daily-ev-capital-dialogue"].meta["script"] == "zh-Hans"
    assert docs["chongqing-daily-ev-capital-dialogue"].meta["event_date"] == "2025-09-28"
    for doc in docs.values():
        assert doc.title and doc.meta["layout"] in ("lines", "wrapped")


def test_title_falls_back_to_first_line(tmp_path):
    (tmp_path / "a.txt").write_text("\n  第一行标题\n\n正文。\n", encoding="utf-8")
    assert load_documents(tmp_path)[0].title == "第一行标题"


def test_sidecars_and_hidden_files_are_not_sources(tmp_path):
    (tmp_path / "a.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "a.meta.toml").write_text('title = "甲"\n', encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("秘密。", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# 乙\n\n正文。", encoding="utf-8")
    assert [p.name for p in discover(tmp_path)] == ["a.txt", "b.md"]
    docs = load_documents(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "sub/b"]
    assert docs[0].title == "甲"


def test_non_utf8_non_chinese_file_is_rejected_naming_the_file(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Café, résumé et naïveté à Chongqing.".encode("latin-1"))
    with pytest.raises(SourceError, match=r"latin1\.txt is not UTF-8.*does not read as GB18030 or Big5.*iconv"):
        load_documents(tmp_path)


@pytest.mark.parametrize("name, encoding", [
    ("chongqing-ev-capital-feature.txt", "big5"),
    ("chongqing-daily-ev-capital-dialogue.txt", "gb18030"),
    ("chongqing-daily-ev-capital-dialogue.txt", "gbk"),
])
def test_legacy_chinese_encodings_are_detected_and_read(tmp_path, name, encoding):
    text = (DOCS_SRC / name).read_text(encoding="utf-8")
    (tmp_path / name).write_bytes(text.encode(encoding))
    warnings = []
    [doc] = load_documents(tmp_path, warn=warnings.append)
    assert doc.text == text
    expected = "GB18030" if encoding == "gbk" else encoding.upper()
    assert len(warnings) == 1 and f"read it as {expected}" in warnings[0] and name in warnings[0]


def test_binary_and_empty_files_are_skipped_with_a_warning(tmp_path):
    (tmp_path / "good.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    warnings = []
    docs = load_documents(tmp_path, warn=warnings.append)
    assert [d.doc_id for d in docs] == ["good"]
    assert any("blob.txt looks binary" in w for w in warnings)
    assert any("empty.txt is empty" in w for w in warnings)


def test_bom_is_removed_and_offsets_count_characters(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff重庆。\r\n第二段。".encode("utf-8"))
    doc = read_document(path, tmp_path)
    assert doc.text == "重庆。\r\n第二段。"


def test_bad_metadata_is_reported(tmp_path):
    (tmp_path / "a.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "a.meta.toml").write_text('titel = "typo"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="unknown field.*titel"):
        load_documents(tmp_path)
    (tmp_path / "a.meta.toml").write_text('title = "unclosed\n', encoding="utf-8")
    with pytest.raises(SourceError, match="invalid metadata"):
        load_documents(tmp_path)


def test_missing_source_folder_is_reported(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        load_documents(tmp_path / "nope")
