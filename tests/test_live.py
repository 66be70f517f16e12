"""Live index updates: concurrent builds are serialised; a running `cqqa serve --watch` rebuilds on a
change and answers from the new version without a restart (observed over HTTP)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest


from cqqa.index.stores.local import load_index
from cqqa.index.watch import is_source_event
from helpers import CQQA, copy_index, free_port, start_process, stop_process

pytestmark = pytest.mark.unit

NEW_ARTICLE = ("两江新区氢能重卡示范线\n"
               "两江新区的氢能重卡示范线于今年投入运营，全长四十二公里，首批投放一百二十辆氢燃料电池重卡。\n")


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as reply:
        return json.loads(reply.read())


def test_source_event_filter(tmp_path):
    assert is_source_event(str(tmp_path / "a.txt"), tmp_path)
    assert is_source_event(str(tmp_path / "sub" / "b.md"), tmp_path)
    assert is_source_event(str(tmp_path / "a.meta.toml"), tmp_path)
    assert not is_source_event(str(tmp_path / ".a.txt.swp"), tmp_path)
    assert not is_source_event(str(tmp_path / ".git" / "x.txt"), tmp_path)
    assert is_source_event(str(tmp_path / "report.pdf"), tmp_path)
    assert not is_source_event(str(tmp_path / "notes.xlsx"), tmp_path)
    assert not is_source_event("/elsewhere/a.txt", tmp_path)


@pytest.mark.integration
def test_two_concurrent_builds_are_serialised(built_settings, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    (settings.source_dir / "new-article.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    args = [CQQA, "index", "--json", "--source", str(settings.source_dir), "--index", str(settings.index_dir)]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append((json.loads(out), err))
    embedded = sorted(r["embedded_chunks"] for r, _ in reports)
    assert embedded == [0, 1], "the new article is embedded once, by one of the two builds"
    assert any("waiting for it to finish" in err for _, err in reports)
    index = load_index(settings.index_dir)
    ids = [c.chunk_id for c in index.chunks]
    assert len(ids) == len(set(ids)) == len(index.vectors) == index.vector_index.size == index.lexical.size


@pytest.mark.integration
def test_running_server_picks_up_an_added_article(built_settings, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    port = free_port()
    proc = start_process([CQQA, "serve", "--watch", "--port", str(port), "--source", str(settings.source_dir),
                          "--index", str(settings.index_dir), "--feedback", str(tmp_path / "fb.jsonl")],
                         "is ready at", timeout=300, env={"CQQA_LLM_BASE_URL": ""})
    try:
        base = f"http://127.0.0.1:{port}"
        before = get(f"{base}/api/status")
        question = urllib.parse.quote("重庆氢能重卡示范线有多长？")
        assert all(c["doc"] != "new-article" for c in get(f"{base}/api/ask?q={question}")["citations"])
        (settings.source_dir / "new-article.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        deadline = time.monotonic() + 180
        while (status := get(f"{base}/api/status"))["index_version"] == before["index_version"]:
            assert time.monotonic() < deadline, "".join(proc.lines)
            assert get(f"{base}/api/ask?q={question}")["index_version"] in {before["index_version"],
                                                                            status["index_version"]}
            time.sleep(0.5)
        assert status["chunks"] == before["chunks"] + 1
        answer = get(f"{base}/api/ask?q={question}")
        assert answer["index_version"] == status["index_version"]
        assert answer["citations"][0]["doc"] == "new-article" and "四十二公里" in answer["answer"]
        assert any("added new-article" in line for line in proc.lines)
    finally:
        stop_process(proc)


@pytest.mark.integration
def test_the_server_listens_at_once_and_answers_questions_asked_while_it_loads(built_settings, tmp_path):
    import urllib.error

    settings = copy_index(built_settings, tmp_path)
    port = free_port()
    proc = start_process([CQQA, "serve", "--port", str(port), "--source", str(settings.source_dir),
                          "--index", str(settings.index_dir), "--feedback", str(tmp_path / "fb.jsonl")],
                         "is listening at", timeout=120, env={"CQQA_LLM_BASE_URL": ""})
    try:
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as loading:
            get(f"{base}/api/status")
        assert loading.value.code == 503 and json.loads(loading.value.read())["ready"] is False
        assert not any("is ready at" in line for line in proc.lines), "the model was still loading"
        question = urllib.parse.quote("What is the 33618 system?")
        answer = get(f"{base}/api/ask?q={question}")  # asked while loading: waits, is answered
        assert answer["answerable"] and "33618" in answer["answer"]
        status = get(f"{base}/api/status")
        assert status["ready"] is True and status["index_version"] == answer["index_version"]
        order = [i for i, line in enumerate(proc.lines) if "is listening at" in line or "is ready at" in line]
        assert len(order) == 2 and "is listening at" in proc.lines[order[0]]
    finally:
        stop_process(proc)


@pytest.mark.integration
def test_a_server_that_cannot_start_says_why_and_exits(tmp_path):
    (tmp_path / "src").mkdir()
    proc = subprocess.run([CQQA, "serve", "--port", str(free_port()), "--source", str(tmp_path / "src"), "--index",
                           str(tmp_path / "idx")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("cqqa: error: no articles to index in")
