"""The Milvus store (index/stores/milvus.py) in a real embedded Milvus Lite, in a temporary folder:
the same answers as the local store, incremental builds, a failed build, a half-written version,
and the errors a user can meet."""

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
from cqqa.index.stores import open_store
from cqqa.index.stores.milvus_schema import create_tables
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.unit

QUESTIONS = [  # Chinese, English, a who-is, a refusal, numbers
    ("印奇怎么看AI的2.0时代？", ()), ("what did Yin Qi say about AI 2.0", ()), ("印奇是谁？", ()),
    ("长安汽车前三季度销量是多少？", ()), ("What is the weather in Paris?", ()), ("他认为汽车是什么？", ("印奇怎么看AI的2.0时代？",)),
]


@pytest.fixture()
def corpus(tmp_path):
    shutil.copytree(DOCS_SRC, tmp_path / "src")
    local = dataclasses.replace(Settings(), source_dir=tmp_path / "src", index_dir=tmp_path / "idx",
                                model=FakeEmbedder.identity.name)
    milvus = dataclasses.replace(local, store="milvus", index_dir=tmp_path / "milvus-idx",
                                 milvus_uri=str(tmp_path / "milvus" / "cqqa.db"))
    return local, milvus


def test_milvus_answers_exactly_as_the_local_store(corpus):
    local, milvus = corpus
    for settings in corpus:
        build_index(settings, embedder_factory=FakeEmbedder)
    assert (local.index_dir / "versions").is_dir() and not (milvus.index_dir / "versions").exists()  # in the engine
    a, b = Searcher(local, embedder=FakeEmbedder()), Searcher(milvus, embedder=FakeEmbedder())
    assert type(b.index.vector_index).__name__ == "EngineVectors"  # the engine searches, not FAISS
    for question, history in QUESTIONS:
        mine, theirs = a.retrieve(question, 8, history), b.retrieve(question, 8, history)
        assert [h.chunk_id for h in mine.hits] == [h.chunk_id for h in theirs.hits], question
        assert np.allclose([h.score for h in mine.hits], [h.score for h in theirs.hits], atol=1e-5), question
        assert [h.best_sentence for h in mine.hits] == [h.best_sentence for h in theirs.hits]
        assert [h.lexical_rank for h in mine.hits] == [h.lexical_rank for h in theirs.hits]
        assert (mine.answerable, mine.roles, mine.absent_terms) == (theirs.answerable, theirs.roles, theirs.absent_terms)
        (texts, scores), (their_texts, their_scores) = (zip(*r.sentence_scores(r.hits[0])) for r in (mine, theirs))
        assert texts == their_texts and scores == pytest.approx(their_scores)
    assert a.index.document_texts() == b.index.document_texts()  # the article pages
    assert a.index.names.aliases == b.index.names.aliases
    assert b.index.manifest["store"]["kind"] == "milvus" and b.index.manifest["chunks"] == len(a.index.chunks)


def test_an_edit_is_embedded_alone_and_seen_and_the_old_version_kept(corpus):
    _, milvus = corpus
    build_index(milvus, embedder_factory=FakeEmbedder)
    store = open_store(milvus)
    first = store.current()
    assert build_index(milvus, embedder_factory=FakeEmbedder).up_to_date  # nothing changed: nothing written
    (milvus.source_dir / "charging.txt").write_text("超级充电站\n重庆今年新建了三十座超级充电站，覆盖高速公路服务区。\n",
                                                    encoding="utf-8")
    embedder = FakeEmbedder()
    report = build_index(milvus, embedder_factory=lambda: embedder)
    assert report.added == ["charging"] and report.embedded_chunks == 1 and sum(embedder.calls) <= 4
    assert store.current() == report.version != first and store.has(first)  # the previous one is kept
    hit = Searcher(milvus, embedder=FakeEmbedder()).search("重庆新建了多少座超级充电站？", k=1)[0]
    assert hit.doc == "charging" and "三十座" in hit.text
    for _ in range(2):
        (milvus.source_dir / "charging.txt").write_text(f"超级充电站{_}\n重庆新建了超级充电站。\n", encoding="utf-8")
        build_index(milvus, embedder_factory=FakeEmbedder)
    assert sum(store.versions().values()) == 2 and not store.has(first)  # pruned to KEEP_VERSIONS


def test_a_build_that_fails_half_way_leaves_the_previous_version_serving(corpus, monkeypatch):
    _, milvus = corpus
    build_index(milvus, embedder_factory=FakeEmbedder)
    store = open_store(milvus)
    before, collections = store.current(), set(store.client.list_collections())
    (milvus.source_dir / "new.txt").write_text("新文章\n重庆的一篇新文章。\n", encoding="utf-8")

    def broken(units):
        raise ConnectionError("the connection dropped")
        yield

    monkeypatch.setattr("cqqa.index.stores.milvus.sentence_rows", broken)  # after the chunks were written
    with pytest.raises(ConnectionError):
        build_index(milvus, embedder_factory=FakeEmbedder)
    assert store.current() == before and set(store.client.list_collections()) == collections  # its tables dropped
    assert Searcher(milvus, embedder=FakeEmbedder()).index.version == before


def test_a_half_written_version_is_never_read_and_is_pruned(corpus):
    _, milvus = corpus
    build_index(milvus, embedder_factory=FakeEmbedder)
    store = open_store(milvus)
    killed = "20000101T000000_000000_1"  # what a build killed before its manifest leaves
    create_tables(store.client, store.prefix, killed, FakeEmbedder.identity.dim, "flat")
    assert store.versions()[killed] is False and not store.has(killed)
    with pytest.raises(IndexProblem, match="no index"):
        store.load(killed)
    store.prune()
    assert killed not in store.versions() and store.current() in store.versions()


def test_clear_errors(corpus, tmp_path, monkeypatch):
    local, milvus = corpus
    unreachable = dataclasses.replace(milvus, milvus_uri="http://127.0.0.1:9")
    with pytest.raises(IndexProblem, match=r"cannot reach Milvus at http://127.0.0.1:9 .*CQQA_MILVUS_URI"):
        build_index(unreachable, embedder_factory=FakeEmbedder)
    with pytest.raises(IndexProblem, match="neither a server"):
        open_store(dataclasses.replace(milvus, milvus_uri=str(tmp_path / "folder"))).current()
    with pytest.raises(IndexProblem, match="letters, digits and underscores"):
        open_store(dataclasses.replace(milvus, milvus_prefix="my-index"))
    with pytest.raises(IndexProblem, match="unknown store 'redis'"):
        open_store(dataclasses.replace(milvus, store="redis"))
    with pytest.raises(IndexProblem, match=r"no index in Milvus at .*cqqa index --store milvus"):
        Searcher(milvus, embedder=FakeEmbedder())
    build_index(milvus, embedder_factory=FakeEmbedder)
    with pytest.raises(IndexProblem, match="built with model fake-bigrams"):  # a query from another model
        Searcher(dataclasses.replace(milvus, model="google/embeddinggemma-300m"), embedder=FakeEmbedder())
    monkeypatch.setattr("cqqa.index.version.FORMAT", 99)  # a collection another cqqa index format wrote
    with pytest.raises(IndexProblem, match="has format 7, this cqqa reads 99"):
        open_store(milvus).load()


@pytest.mark.parametrize("which", ["local", "milvus"])
def test_restore_serves_the_version_before_in_either_store(corpus, which, capsys, monkeypatch):
    from cqqa.cli import main

    settings = corpus[which == "milvus"]
    monkeypatch.setenv("CQQA_MILVUS_URI", settings.milvus_uri)  # for the command below
    first = build_index(settings, embedder_factory=FakeEmbedder).version
    (settings.source_dir / "sales.txt").write_text("长安汽车销量\n长安汽车前三季度累计销量为999万辆。\n", encoding="utf-8")
    second = build_index(settings, embedder_factory=FakeEmbedder).version
    store = open_store(settings)
    assert store.restore() == first and store.current() == first
    hit = Searcher(settings, embedder=FakeEmbedder()).search("长安汽车前三季度累计销量", k=1)[0]
    assert "999万辆" not in hit.text  # the earlier version answers again
    with pytest.raises(IndexProblem, match=f"no version nonsense to restore .*kept: {second}"):
        store.restore("nonsense")
    args = ["index", "--source", str(settings.source_dir), "--index", str(settings.index_dir), "--store", which,
            "--restore", second]
    assert main(args) == 0 and store.current() == second and f"now serves version {second}" in capsys.readouterr().out


def test_a_version_that_lost_a_collection_is_rebuilt_reusing_what_is_left(corpus):
    _, milvus = corpus
    first = build_index(milvus, embedder_factory=FakeEmbedder)
    store = open_store(milvus)
    store.client.drop_collection(f"{store.prefix}_{first.version}_sentences")  # e.g. dropped by hand
    notes, embedder = [], FakeEmbedder()
    again = build_index(milvus, embedder_factory=lambda: embedder, warn=notes.append)
    assert not again.up_to_date and again.version != first.version and again.embedded_chunks == 0
    assert any("is damaged (" in note and "0 sentences stored" in note for note in notes)
    assert again.embedded_sentences > 0  # the lost sentence vectors, embedded again
    assert Searcher(milvus, embedder=FakeEmbedder()).search("印奇怎么看AI的2.0时代？", k=1)[0].doc
