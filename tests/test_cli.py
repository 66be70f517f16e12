"""The `cqqa` command as a user runs it: real processes, real model, real index."""

import json
import re
import os
import subprocess

import pytest

from helpers import CQQA, ROOT, squash

pytestmark = pytest.mark.unit



def run(*args, env=None, cwd=None):
    return subprocess.run([CQQA, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, timeout=300)


@pytest.mark.integration
def test_search_json_contract(built_settings):
    proc = run("search", "what did Yin Qi say about AI 2.0", "--json", "--k", "3",
               "--index", str(built_settings.index_dir), "--source", str(built_settings.source_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"] == "what did Yin Qi say about AI 2.0"
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3]
    first = data["hits"][0]
    assert set(first) == {"rank", "chunk_id", "doc", "title", "text", "start", "end", "page", "score"}
    assert first["page"] == 0  # a text file has no pages
    assert "解决智力问题的2.0时代" in first["text"]
    source = (built_settings.source_dir / f"{first['doc']}.txt").read_text(encoding="utf-8")
    assert squash(source[first["start"]:first["end"]]) == squash(first["text"])


@pytest.mark.integration
def test_ask_json_cites_the_passage(built_settings):
    proc = run("ask", "what did Yin Qi say about AI 2.0", "--json",
               "--index", str(built_settings.index_dir), "--source", str(built_settings.source_dir),
               env={"CQQA_READER": "auto"})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["answerable"] is True
    assert {"question", "answer", "answerable", "citations"} <= set(data)
    first = data["citations"][0]
    assert {"n", "chunk_id", "doc", "title", "text", "start", "end"} <= set(first)
    assert first["n"] == 1 and "[1]" in data["answer"]
    assert "解决智力问题的2.0时代" in first["text"]
    assert "解决智力问题的2.0时代" in data["answer"]  # quoted, in the source's script
    # the reader's translations, waited for: one per quote, each checked or withheld with reasons
    quotes = [q for c in data["citations"] for q in c["quotes"]]
    assert [t["quote"] for t in data["translations"]] == quotes and data["reader"]
    for t in data["translations"]:
        assert t["status"] in ("checked", "withheld"), t
        assert (t["status"] == "checked") == (t["text"] != "") == all(t["checks"].values())
    assert any(t["status"] == "checked" and "Yin Qi" in t["text"] for t in data["translations"])
    source = (built_settings.source_dir / f"{first['doc']}.txt").read_text(encoding="utf-8")
    assert squash(source[first["start"]:first["end"]]) == squash(first["text"])


@pytest.mark.integration
def test_ask_follow_up_and_refusal_in_the_questions_language(built_settings):
    where = ("--index", str(built_settings.index_dir))
    follow = json.loads(run("ask", "And what did he say about safety?", "--history", "What did Li Shufu say about AI?",
                            "--json", *where).stdout)
    assert "李书福" in follow["query"]
    assert any("安全" in q and "李书福" in q for c in follow["citations"] for q in c["quotes"])
    refused = run("ask", "东京的房价是多少？", *where)
    assert refused.returncode == 0
    assert refused.stdout.startswith("文章中没有出现“东京”、“房价”。文章中没有说到这一点。最接近的是《")
    assert "Closest passages, which do not say it (not citations):" in refused.stdout and "[1]" not in refused.stdout


@pytest.mark.integration
def test_ask_keeps_and_continues_a_conversation(built_settings, tmp_path):
    where = ("--index", str(built_settings.index_dir), "--no-reader")
    env = {"CQQA_CONVERSATIONS_FILE": str(tmp_path / "kept.sqlite3")}
    first = run("ask", "What did Li Shufu say about AI?", "--conversation", "new", *where, env=env)
    assert first.returncode == 0, first.stderr
    conversation = re.search(r"Conversation ([0-9a-f]{32}) \(continue it", first.stdout).group(1)
    follow = json.loads(run("ask", "And what did he say about safety?", "--conversation", conversation, "--json",
                            *where, env=env).stdout)
    assert follow["conversation"] == conversation and "李书福" in follow["query"]
    from cqqa.answer.conversations import Conversations

    assert Conversations(tmp_path / "kept.sqlite3").questions(conversation) == [
        "What did Li Shufu say about AI?", "And what did he say about safety?"]
    unknown = run("ask", "And safety?", "--conversation", "f" * 32, *where, env=env)
    assert unknown.returncode != 0 and "--conversation new starts one" in unknown.stderr
    both = run("ask", "And safety?", "--conversation", conversation, "--history", "x", *where, env=env)
    assert both.returncode != 0 and "not both" in both.stderr


@pytest.mark.integration
def test_index_json_summary(built_settings):
    proc = run("index", "--json", "--index", str(built_settings.index_dir), "--source", str(built_settings.source_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["docs"] == 2 and data["chunks"] > 20 and data["embedded_chunks"] == 0
    assert isinstance(data["seconds"], float)


@pytest.mark.integration
@pytest.mark.parametrize("args,message", [
    (["search", "  "], "the query is empty"),
    (["search", "hello", "--index", "/nonexistent/idx"], "no index in /nonexistent/idx"),
    (["index", "--source", "/nonexistent/src", "--index", "/tmp/cqqa-never"], "source folder /nonexistent/src does not exist"),
])
def test_bad_input_exits_non_zero_with_one_line(args, message):
    proc = run(*args)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("cqqa: error: ") and message in lines[0], proc.stderr


@pytest.mark.integration
def test_unreadable_source_is_reported(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Café, résumé et naïveté à Chongqing.".encode("latin-1"))
    proc = run("index", "--source", str(tmp_path), "--index", str(tmp_path / "idx"))
    assert proc.returncode == 1 and "latin1.txt is not UTF-8" in proc.stderr
    assert not (tmp_path / "idx" / "CURRENT").exists()


@pytest.mark.integration
@pytest.mark.parametrize("args", [[], ["search"], ["index"], ["models"], ["models", "fetch"], ["serve"], ["ask"],
                                  ["watch"]])
def test_help_on_every_command(args):
    proc = run(*args, "--help")
    assert proc.returncode == 0 and "usage: cqqa" in proc.stdout


@pytest.mark.integration
def test_calibrate_fits_on_the_project_set_and_search_explains_the_decision(built_settings, tmp_path):
    folders = ["--index", str(built_settings.index_dir), "--source", str(built_settings.source_dir)]
    out = tmp_path / "decision.json"
    proc = run("calibrate", "--set", "eval/cqqa-eval.jsonl", "--out", str(out), "--max-refused", "0.025", *folders,
               cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "before en" in proc.stdout and "after zh" in proc.stdout
    fitted = json.loads(out.read_text(encoding="utf-8"))
    assert set(fitted["thresholds"]) == {"en", "zh"} and "eval/cqqa-eval.jsonl" in fitted["fitted_on"]
    refused = [int(row["unanswerable_refused"].split("/")[0]) for row in fitted["measured"].values()]
    assert sum(refused) >= 17, fitted["measured"]  # of the 20 the set cannot answer
    proc = run("search", "How many employees does Seres have?", "--explain", *folders)
    assert proc.returncode == 0 and "decision: not in the articles: en question" in proc.stdout, proc.stdout
