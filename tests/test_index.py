"""The index with the real model on disk: build, reuse, staleness, safety."""

import json

import numpy as np
import pytest

from helpers import copy_index

from cqqa.errors import IndexProblem
from cqqa.index.build import build_index
from cqqa.index.staleness import staleness
from cqqa.index.stores.local import load_index
from cqqa.index.stores.local_folders import current_version
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.integration


def test_manifest_says_what_was_built_from_what(built_settings):
    index = load_index(built_settings.index_dir)
    m = index.manifest
    assert m["model"]["name"] == "embeddinggemma-300m"
    assert m["model"]["weights_sha256"].startswith("cbf5a783")
    assert m["model"]["dim"] == 768 == index.vectors.shape[1]
    assert m["settings"]["chunks"] == {"chunk_tokens": 200, "chunk_overlap": 40, "encoding": "o200k_base"}
    docs = {d["doc_id"]: d for d in m["documents"]}
    assert set(docs) == {"chongqing-ev-capital-feature", "chongqing-daily-ev-capital-dialogue"}
    assert sum(d["chunks"] for d in docs.values()) == m["chunks"] == len(index.chunks)
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-3)


def test_second_build_embeds_nothing_and_writes_nothing(built_settings):
    before = current_version(built_settings.index_dir)
    report = build_index(built_settings, embedder_factory=lambda: pytest.fail("the model must not be loaded"))
    assert report.up_to_date and report.embedded_chunks == 0
    assert current_version(built_settings.index_dir) == before


def test_edit_reembeds_only_changed_chunks_and_staleness_is_reported(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    path = settings.source_dir / "chongqing-ev-capital-feature.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("兩江交匯處,西南工業重鎮由此誕生。", "兩江交匯處,一座工業重鎮由此誕生。"), encoding="utf-8")
    assert staleness(settings) == ["source chongqing-ev-capital-feature changed"]
    report = build_index(settings, embedder_factory=lambda: embedder)
    assert 1 <= report.embedded_chunks <= 2  # the edited chunk (and nothing of the other article)
    assert staleness(settings) == []
    hits = Searcher(settings, embedder=embedder).search("一座工業重鎮由此誕生", k=1)
    assert "一座工業重鎮" in hits[0].text


def test_failed_build_leaves_the_previous_index_in_use(built_settings, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    before = current_version(settings.index_dir)
    (settings.source_dir / "new.txt").write_text("一篇新的文章。" * 20, encoding="utf-8")

    class Exploding:
        identity = load_index(settings.index_dir).model

        def encode_documents(self, texts, **kwargs):
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        build_index(settings, embedder_factory=Exploding)
    assert current_version(settings.index_dir) == before
    assert len(load_index(settings.index_dir).chunks) == load_index(built_settings.index_dir).manifest["chunks"]
    assert not list((settings.index_dir / "versions").glob(".building-*"))


def test_missing_and_corrupt_index_are_clear_errors(built_settings, tmp_path):
    with pytest.raises(IndexProblem, match="no index in .*cqqa index"):
        load_index(tmp_path / "nothing")
    settings = copy_index(built_settings, tmp_path)
    version = current_version(settings.index_dir)
    (version / "chunks.jsonl").write_text("{broken", encoding="utf-8")
    with pytest.raises(IndexProblem, match="corrupt"):
        load_index(settings.index_dir)


def test_index_built_with_another_model_is_refused(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    manifest_path = current_version(settings.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["name"] = "some/other-model"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match="built with model some/other-model"):
        Searcher(settings, embedder=embedder)
    assert any("built with model some/other-model" in r for r in staleness(settings))
