import pytest

from cqqa.errors import SourceError
from cqqa.ingest.sources import discover, load_documents, read_document

from helpers import DOCS_SRC

pytestmark = pytest.mark.unit


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
    (tmp_path / "blob.txt").write_bytes(b"\x7fELF\x02\x01\x00\x00\xff\xfe")
    (tmp_path / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    warnings = []
    docs = load_documents(tmp_path, warn=warnings.append)
    assert [d.doc_id for d in docs] == ["good"]
    assert any("blob.txt looks binary" in w for w in warnings)
    assert any("picture.txt is named like a text file but its content is an image; rename it to .png" in w
               for w in warnings)
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


def test_a_symlink_out_of_the_source_folder_is_skipped_with_a_warning(tmp_path):
    source, outside = tmp_path / "docs_src", tmp_path / "outside"
    source.mkdir(), outside.mkdir()
    (source / "a.txt").write_text("正文。", encoding="utf-8")
    (outside / "secret.txt").write_text("机密内容。", encoding="utf-8")
    (source / "passwd.md").symlink_to(outside / "secret.txt")
    (source / "alias.txt").symlink_to(source / "a.txt")  # a link inside the folder is fine
    warnings = []
    assert [d.doc_id for d in load_documents(source, warn=warnings.append)] == ["a", "alias"]
    assert len(warnings) == 1 and "passwd.md is a symbolic link" in warnings[0] and "CQQA_FOLLOW_SYMLINKS" in warnings[0]
    followed = load_documents(source, follow_symlinks=True)
    assert [d.doc_id for d in followed] == ["a", "alias", "passwd"] and followed[2].text == "机密内容。"


def test_two_files_with_one_article_id_stop_with_both_names(tmp_path):
    (tmp_path / "twin.txt").write_text("甲文。", encoding="utf-8")
    (tmp_path / "twin.md").write_text("乙文。", encoding="utf-8")
    with pytest.raises(SourceError, match=r"twin\.md and .*twin\.txt would both be the article 'twin'.*rename"):
        load_documents(tmp_path)


def test_a_file_over_the_size_limit_is_skipped_naming_the_setting(tmp_path):
    (tmp_path / "small.txt").write_text("正文。", encoding="utf-8")
    (tmp_path / "huge.txt").write_text("重庆汽车产业。\n" * 100_000, encoding="utf-8")  # 2.2 MB
    warnings = []
    docs = load_documents(tmp_path, warn=warnings.append, max_mb=1)
    assert [d.doc_id for d in docs] == ["small"]
    assert len(warnings) == 1 and "huge.txt is 2.1 MB, over the limit of 1 MB" in warnings[0]
    assert "CQQA_MAX_SOURCE_MB" in warnings[0]
    assert [d.doc_id for d in load_documents(tmp_path, max_mb=4)] == ["huge", "small"]


def test_the_fingerprint_covers_the_sidecar(tmp_path):
    (tmp_path / "a.txt").write_text("正文。", encoding="utf-8")
    before = load_documents(tmp_path)[0].fingerprint
    (tmp_path / "a.meta.toml").write_text('title = "新标题"\ndate = 2025-09-28\n', encoding="utf-8")
    after = load_documents(tmp_path)[0]
    assert after.fingerprint != before and after.sha256 == before.split("+")[0]


def test_chunking_asks_for_the_title_once_per_document(tmp_path):
    """Without a sidecar title, Document.title scans the text: asked once per chunk, a 3 MB file
    took 23 s to chunk (quadratic). Chunking must ask once per document."""
    from cqqa.ingest.chunking import chunk_document
    from cqqa.config import ChunkSettings
    from cqqa.ingest.sources import Document

    asked = []

    class Counting(Document):
        @property
        def title(self):
            asked.append(1)
            return super().title

    text = "".join(f"第{i}段：重庆的智能网联新能源汽车产业取得了新的进展，产量和销量持续增长。\n\n" for i in range(300))
    doc = Counting("big", tmp_path / "big.txt", text, "0" * 64, {})
    chunks = chunk_document(doc, ChunkSettings())
    assert len(chunks) > 20 and len(asked) == 1
    assert chunks[0].title == "第0段：重庆的智能网联新能源汽车产业取得了新的进展，产量和销量持续增长。"
