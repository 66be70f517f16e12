"""Kept conversations (answer/conversations.py) and /api/ask's use of them (serve/api.py).

Answers come from the real pipeline (Assistant, a real index on disk) with the fake embedder;
the store is a real SQLite file."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import time

import pytest

from cqqa.answer import conversations as conv
from cqqa.answer.assistant import Assistant
from cqqa.answer.present import answer_from_json, answer_json
from cqqa.answer.conversations import ConversationError, Conversations, article_version, changes, documents_of
from cqqa.errors import QueryError
from cqqa.index.build import build_index
from cqqa.index.stores.local import load_index
from cqqa.index.stores.local import LocalStore
from cqqa.serve.api import UnknownConversation, asked
from cqqa.serve.chat import browser_secret
from fakes import FakeEmbedder
from helpers import fake_corpus

pytestmark = pytest.mark.unit

ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从1.0时代向2.0时代的跃迁。他认为汽车是AI最好的载体。\n",
}


@pytest.fixture()
def world(tmp_path):
    settings = fake_corpus(tmp_path, ARTICLES)
    assistant = Assistant(settings, embedder=FakeEmbedder(), reader=False)
    return settings, assistant, Conversations(tmp_path / "kept" / "conversations.sqlite3")


def keep(store, assistant, settings, question, conversation=None, owner=None):
    answer = assistant.ask(question, store.questions(conversation) if conversation else [])
    conversation = conversation or store.start(question, owner)
    return conversation, store.add(conversation, answer, documents_of(answer, LocalStore(settings))), answer


def test_an_answer_is_kept_as_it_was_and_reopened(world):
    settings, assistant, store = world
    cid, aid, answer = keep(store, assistant, settings, "长安汽车前三季度累计销量是多少？")
    reopened = Conversations(store.path)  # another process, or the server after a restart
    [kept] = reopened.answers(cid)
    assert kept.id == aid and answer_json(kept.answer) == answer_json(answer)
    assert "206.6万辆" in kept.answer.answer and kept.answer.citations[0].doc == "sales"
    hashes = {d["doc_id"]: d["sha256"] for d in load_index(settings.index_dir).manifest["documents"]}
    assert kept.documents["sales"] == hashes["sales"] and len(hashes["sales"]) == 64
    assert reopened.answer(aid).answer.question == answer.question
    assert reopened.answer("../../etc/passwd") is None and reopened.answer("0" * 32) is None


def test_a_follow_up_is_read_with_the_conversation_s_questions(world):
    settings, assistant, store = world
    cid, _, _ = keep(store, assistant, settings, "印奇怎么看AI的2.0时代？")
    _, _, follow_up = keep(store, assistant, settings, "他认为汽车是什么？", cid)
    assert store.questions(cid) == ["印奇怎么看AI的2.0时代？", "他认为汽车是什么？"]
    assert "印奇" in follow_up.query  # the earlier question's name carried into the search


def test_each_browser_lists_only_its_own_and_deletes_only_its_own(world):
    settings, assistant, store = world
    mine, aid, _ = keep(store, assistant, settings, "长安汽车前三季度累计销量是多少？", owner="me")
    theirs, _, _ = keep(store, assistant, settings, "印奇怎么看AI？", owner="them")
    assert [s.id for s in store.listing("me")] == [mine] and store.listing("me")[0].answers == 1
    assert not store.exists(theirs, "me") and store.exists(theirs, "them")
    assert not store.delete(theirs, "me") and store.exists(theirs)
    assert store.delete(mine, "me")
    assert store.answers(mine) == [] and store.answer(aid) is None and store.listing("me") == []
    with pytest.raises(ConversationError, match="deleted"):
        store.add(mine, assistant.ask("长安汽车销量"), {})
    again, answer_id = store.keep(mine, assistant.ask("长安汽车销量"), {}, "me")  # a tab still showing it asks on
    assert again != mine and [s.id for s in store.listing("me")] == [again]
    assert store.answer(answer_id).conversation == again and store.questions(again) == ["长安汽车销量"]


def test_the_least_recently_used_conversations_go_past_the_bound(world, monkeypatch):
    settings, assistant, _ = world
    store = Conversations(settings.index_dir.parent / "small.sqlite3", max_conversations=3)
    answer = assistant.ask("长安汽车销量")
    ids = []
    for n in range(3):
        ids.append(store.start(f"q{n}", "me"))
        time.sleep(0.01)
    store.add(ids[0], answer, {})  # the oldest is used again: the second oldest goes first
    time.sleep(0.01)
    ids.append(store.start("q3", "me"))
    assert {s.id for s in store.listing("me")} == {ids[0], ids[2], ids[3]}
    monkeypatch.setattr(conv, "MAX_TURNS", 2)
    for _ in range(3):
        store.add(ids[3], answer, {})
    assert len(store.answers(ids[3])) == 2
    with pytest.raises(ConversationError, match="CQQA_CONVERSATIONS_MAX"):
        Conversations(store.path, max_conversations=0)


def test_a_translation_never_finished_reopens_as_unfinished(world):
    from cqqa.answer.types import Translation

    settings, assistant, store = world
    answer = dataclasses.replace(assistant.ask("What were Changan's sales?"),
                                 translations=[Translation(1, "长安汽车…", "Changan…", "checked"),
                                               Translation(2, "出口…", status="writing", draft="Exp")])
    cid = store.start(answer.question)
    aid = store.add(cid, answer, {})
    kept = store.answer(aid).answer.translations
    assert [t.status for t in kept] == ["checked", "failed"] and "closed before" in kept[1].problems[0]
    finished = dataclasses.replace(answer, translations=[answer.translations[0],
                                                         Translation(2, "出口…", "Exports…", "checked")])
    assert store.update(aid, finished) and [t.status for t in store.answer(aid).answer.translations] == ["checked"] * 2


def test_reopening_says_which_articles_changed_and_links_where_they_still_are(world):
    settings, assistant, store = world
    cid, sales_id, _ = keep(store, assistant, settings, "长安汽车前三季度累计销量是多少？")
    _, ai_id, _ = keep(store, assistant, settings, "印奇怎么看AI的2.0时代？")
    before = load_index(settings.index_dir).version
    sales = settings.source_dir / "sales.txt"
    sales.write_text(sales.read_text(encoding="utf-8").replace("206.6万辆", "210万辆"), encoding="utf-8")
    build_index(settings, embedder_factory=FakeEmbedder)
    build_index(dataclasses.replace(settings, chunks=dataclasses.replace(settings.chunks, chunk_overlap=20)),
                embedder_factory=FakeEmbedder)  # a second rebuild: the answers' own version is pruned
    index = load_index(settings.index_dir)
    assert not (settings.index_dir / "versions" / before).exists()
    sales_kept, ai_kept = store.answer(sales_id), store.answer(ai_id)
    assert any("长安汽车销量" in n and "has changed" in n for n in changes(sales_kept, index))
    assert not any("印奇谈人工智能" in n for n in changes(ai_kept, index) + changes(sales_kept, index))
    assert article_version(sales_kept, index, LocalStore(settings)) == before  # changed: the link says so (410)
    assert article_version(ai_kept, index, LocalStore(settings)) == index.version  # same text: today's version
    sales.unlink()
    build_index(settings, embedder_factory=FakeEmbedder)
    assert any("no longer among the articles" in n for n in changes(sales_kept, load_index(settings.index_dir)))


def test_the_api_continues_a_conversation_and_refuses_bad_input(world):
    settings, assistant, store = world
    [*steps, first] = asked(assistant, store, "印奇怎么看AI的2.0时代？", [])
    assert steps == [] and first["conversation"] and first["link"] == f"/answer/{first['answer_id']}"
    follow_up = list(asked(assistant, store, "他认为汽车是什么？", [], first["conversation"]))[-1]
    assert follow_up["conversation"] == first["conversation"] and "印奇" in follow_up["query"]
    assert store.questions(first["conversation"]) == ["印奇怎么看AI的2.0时代？", "他认为汽车是什么？"]
    with pytest.raises(UnknownConversation, match="leave out conversation="):
        next(asked(assistant, store, "长安汽车销量", [], "0" * 32))
    with pytest.raises(QueryError, match="not both"):
        next(asked(assistant, store, "长安汽车销量", ["x"], first["conversation"]))
    with pytest.raises(QueryError):
        next(asked(assistant, store, "   ", []))
    assert store.questions(first["conversation"]) == ["印奇怎么看AI的2.0时代？", "他认为汽车是什么？"]


def test_a_damaged_store_says_what_to_do(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"this is not a database, it is a PDF someone saved here" * 20)
    with pytest.raises(ConversationError, match="CQQA_CONVERSATIONS_FILE"):
        Conversations(path)
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_the_browser_secret_is_made_once_and_kept_private(tmp_path):
    first = browser_secret(tmp_path / "kept")
    assert browser_secret(tmp_path / "kept") == first and len(first) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "kept" / "browser-secret").st_mode) == 0o600
    (tmp_path / "kept" / "browser-secret").write_text("short")
    with pytest.raises(ConversationError, match="damaged"):
        browser_secret(tmp_path / "kept")


def test_an_answer_survives_the_json_round_trip_with_its_headings(world):
    settings, assistant, store = world
    answer = assistant.ask("长安汽车前三季度累计销量是多少？")
    data = json.loads(json.dumps(answer_json(answer), ensure_ascii=False))
    assert answer_json(answer_from_json(data)) == answer_json(answer)
    loaded = load_index(settings.index_dir)
    on_disk = documents_of(answer, LocalStore(settings))
    assert documents_of(answer, LocalStore(settings), loaded) == on_disk and len(on_disk["sales"]) == 64
    shutil.rmtree(settings.index_dir / "versions")  # documents_of: the version gone, hashes unknown
    assert set(documents_of(answer, LocalStore(settings)).values()) == {""}
    assert documents_of(answer, LocalStore(settings), loaded) == on_disk  # the version in memory still knows
