"""The store contract (index/stores/base.Store), the same test for every store: one class states
the promises, one subclass per store says how to open it (txtai's DenseTest pattern). Both run
here: the local store in a temporary folder, Milvus in an embedded Milvus Lite file. That the
two answer alike is tests/test_store_milvus.py's."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from fakes import FakeEmbedder
from helpers import DOCS_SRC

from cqqa.config import Settings
from cqqa.errors import IndexProblem
from cqqa.index.build import build_index
from cqqa.index.inputs import embed_input, vector_key
from cqqa.index.stores import open_store
from cqqa.index.stores.base import KEEP_VERSIONS

pytestmark = pytest.mark.unit


class StoreContract:
    """What every store promises. A subclass sets `settings` for its store."""

    def settings(self, base: Settings, tmp_path) -> Settings:
        raise NotImplementedError

    @pytest.fixture()
    def world(self, tmp_path):
        shutil.copytree(DOCS_SRC, tmp_path / "src")
        base = dataclasses.replace(Settings(), source_dir=tmp_path / "src", index_dir=tmp_path / "idx",
                                   model=FakeEmbedder.identity.name)
        settings = self.settings(base, tmp_path)
        return settings, open_store(settings)

    def edit(self, settings: Settings, n: int) -> None:
        (settings.source_dir / "edited.txt").write_text(f"充电站{n}\n重庆今年新建了{n}座超级充电站。\n", encoding="utf-8")

    def test_an_empty_store_has_no_version_and_says_how_to_build_one(self, world):
        _, store = world
        assert store.current() is None and store.kept() == [] and store.manifest() is None
        with pytest.raises(IndexProblem, match="no index"):
            store.load()

    def test_a_build_becomes_current_and_loads_whole(self, world):
        settings, store = world
        report = build_index(settings, embedder_factory=FakeEmbedder)
        version = store.current()
        assert version == report.version and store.has(version) and store.kept() == [version]
        manifest = store.manifest()
        assert manifest == store.manifest(version) and manifest["chunks"] == report.chunks
        index = store.load()
        assert index.version == version and len(index.chunks) == report.chunks == len(index.vectors)
        assert set(index.document_texts()) == {d["doc_id"] for d in manifest["documents"]}
        notes = []
        assert store.state(notes.append) == (manifest, True) and notes == []
        assert not store.has("19990101T000000.000000-1") and store.manifest("19990101T000000.000000-1") is None
        with pytest.raises(IndexProblem, match="no index version"):
            store.load("19990101T000000.000000-1")

    def test_versions_are_kept_pruned_and_restored(self, world):
        settings, store = world
        with pytest.raises(IndexProblem, match="no earlier index version"):
            build_index(settings, embedder_factory=FakeEmbedder) and store.restore()
        first = store.current()
        for n in (1, 2):
            self.edit(settings, n)
            build_index(settings, embedder_factory=FakeEmbedder)
        kept = store.kept()
        assert len(kept) == KEEP_VERSIONS and kept[0] == store.current() and not store.has(first)
        assert kept == sorted(kept, reverse=True)  # newest first
        assert store.restore() == kept[1] and store.current() == kept[1] and store.load().version == kept[1]
        store.use(kept[0])
        assert store.current() == kept[0]

    def test_stored_vectors_are_found_again_by_their_text(self, world):
        settings, store = world
        build_index(settings, embedder_factory=FakeEmbedder)
        index = store.load()
        keys = {vector_key(embed_input(chunk)): row for row, chunk in enumerate(index.chunks)}
        found, identity = store.reusable(FakeEmbedder.identity.name, set(keys) | {"not-a-stored-key"})
        assert set(found) == set(keys) and identity["name"] == FakeEmbedder.identity.name
        assert all(np.allclose(found[key], index.vectors[row]) for key, row in keys.items())
        assert store.reusable("another-model", set(keys)) == ({}, None)


class TestLocalStore(StoreContract):
    def settings(self, base, tmp_path):
        return base


class TestMilvusStore(StoreContract):
    def settings(self, base, tmp_path):
        return dataclasses.replace(base, store="milvus", milvus_uri=str(tmp_path / "milvus" / "cqqa.db"))
