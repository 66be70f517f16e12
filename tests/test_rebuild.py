"""Rebuilds after source changes, with the real model: only what changed is embedded; nothing is lost."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import copy_index

from cqqa.index.build import build_index
from cqqa.index.staleness import diff_documents
from cqqa.index.stores.local import load_index
from cqqa.index.stores.local_folders import current_version
from cqqa.config import RetrievalSettings
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.unit


FEATURE = "chongqing-ev-capital-feature"


def test_diff_documents():
    before = {"a": "1", "b": "2", "c": "3"}
    after = {"a": "1", "b": "9", "d": "3", "e": "5"}
    assert diff_documents(before, after) == {
        "added": ["e"], "changed": ["b"], "removed": [], "renamed": [{"from": "c", "to": "d"}], "unchanged": 1}
    assert diff_documents(before, {})["removed"] == ["a", "b", "c"]


@pytest.mark.integration
def test_rename_embeds_nothing(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    src = settings.source_dir
    (src / f"{FEATURE}.txt").rename(src / "renamed-feature.txt")
    (src / f"{FEATURE}.meta.toml").rename(src / "renamed-feature.meta.toml")
    report = build_index(settings, embedder_factory=lambda: pytest.fail("nothing should need the model"))
    assert report.renamed == [{"from": FEATURE, "to": "renamed-feature"}]
    assert report.embedded_chunks == 0 and report.embedded_sentences == 0 and not report.added
    hits = Searcher(settings, embedder=embedder).search("長安汽車前三季度累計銷量", k=1)
    assert hits[0].doc == "renamed-feature"


@pytest.mark.integration
def test_delete_removes_from_dense_and_lexical_results(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    (settings.source_dir / f"{FEATURE}.txt").unlink()
    report = build_index(settings, embedder_factory=lambda: pytest.fail("nothing should need the model"))
    assert report.removed == [FEATURE] and report.embedded_chunks == 0
    for mode in ("dense", "lexical", "hybrid"):
        searcher = Searcher(settings, embedder=embedder, retrieval=RetrievalSettings(mode=mode))
        hits = searcher.search("長安汽車累計銷量為206.6萬輛", k=50)
        assert hits and all(h.doc != FEATURE for h in hits), mode


@pytest.mark.integration
def test_added_article_is_embedded_alone_and_searchable(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    (settings.source_dir / "new-article.txt").write_text(
        "两江新区的氢能重卡示范线于今年投入运营，首批投放一百二十辆氢燃料电池重卡。\n", encoding="utf-8")
    before = {c.chunk_id: c for c in load_index(settings.index_dir).chunks}
    report = build_index(settings, embedder_factory=lambda: embedder)
    assert report.added == ["new-article"] and report.embedded_chunks == 1 and report.unchanged == 2
    after = {c.chunk_id: c for c in load_index(settings.index_dir).chunks}
    assert {k: v for k, v in after.items() if k in before} == before  # others keep ids and text
    hits = Searcher(settings, embedder=embedder).search("How many hydrogen trucks were deployed in Liangjiang?", k=1)
    assert hits[0].doc == "new-article"


@pytest.mark.integration
def test_kill_9_mid_build_leaves_the_previous_index_intact(built_settings, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    before = current_version(settings.index_dir)
    chunks_before = len(load_index(settings.index_dir).chunks)
    # a large new article, so that embedding takes long enough to be interrupted
    text = "".join(f"第{i}段：重庆的智能网联新能源汽车产业在第{i}年取得了新的进展，产量和销量持续增长。\n" for i in range(400))
    (settings.source_dir / "big.txt").write_text(text, encoding="utf-8")
    cqqa = str(Path(sys.executable).with_name("cqqa"))
    proc = subprocess.Popen([cqqa, "index", "--source", str(settings.source_dir), "--index", str(settings.index_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    # the embedding progress bar: sentence-transformers' "Batches" (torch), "Embedding" (int8, as on AVX2 CPUs)
    bars = ("Batches", "Embedding")
    while time.monotonic() < deadline and not any(bar in (proc.stderr.readline() or "") for bar in bars):
        if proc.poll() is not None:
            break
    assert proc.poll() is None, "the build finished before it could be interrupted"
    time.sleep(2)  # well inside the embedding loop
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert current_version(settings.index_dir) == before
    assert len(load_index(settings.index_dir).chunks) == chunks_before
    report = build_index(settings)  # the next build completes normally (and cleans up the leftovers)
    assert report.added == ["big"] and not list((settings.index_dir / "versions").glob(".building-*"))
    assert len(load_index(settings.index_dir).chunks) > chunks_before


@pytest.mark.integration
def test_changed_chunk_settings_rebuild_everything_and_say_so(built_settings, embedder, tmp_path):
    import dataclasses

    from cqqa.config import ChunkSettings

    settings = copy_index(built_settings, tmp_path)
    settings = dataclasses.replace(settings, chunks=ChunkSettings(chunk_tokens=120, chunk_overlap=20))
    warnings = []
    report = build_index(settings, embedder_factory=lambda: embedder, warn=warnings.append)
    assert any("chunking, text extraction or index settings changed: rebuilding every document" in w for w in warnings)
    index = load_index(settings.index_dir)
    assert index.manifest["settings"]["chunks"]["chunk_tokens"] == 120
    assert report.chunks == len(index.chunks) > len(load_index(built_settings.index_dir).chunks)
    assert report.embedded_chunks > 0 and report.embedded_sentences < len(index.sentences.texts)  # sentences reused
