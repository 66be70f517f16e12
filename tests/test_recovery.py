"""Every documented recovery, done for real on an index on disk: a damaged index is rebuilt by
`cqqa index` (reusing the vectors that still check out), sidecar edits are picked up, a read-only
index folder can be served but not built into, --force rebuilds from scratch, and the watcher
rebuilds once per burst of saves."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cqqa.errors import IndexProblem
from cqqa.index.build import build_index
from cqqa.index.stores.local import load_index
from cqqa.index.stores.local_folders import current_version
from cqqa.retrieve.search import Searcher
from cqqa.index.watch import start_watching
from helpers import CQQA, copy_index, free_port, start_process, stop_process

pytestmark = pytest.mark.integration

DIALOGUE = "chongqing-daily-ev-capital-dialogue"
FEATURE = "chongqing-ev-capital-feature"


def cqqa(*args: str, settings=None) -> subprocess.CompletedProcess:
    where = ["--source", str(settings.source_dir), "--index", str(settings.index_dir)] if settings else []
    return subprocess.run([CQQA, *args, *where], capture_output=True, text=True, timeout=600)


def damage(version: Path, kind: str) -> None:
    if kind == "truncated faiss.index":
        path = version / "faiss.index"
        path.write_bytes(path.read_bytes()[:1000])
    elif kind == "deleted vectors.npy":
        (version / "vectors.npy").unlink()
    elif kind == "broken chunks.jsonl line":
        path = version / "chunks.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[3] = lines[3][:40]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("kind, embeds_chunks", [("truncated faiss.index", False), ("deleted vectors.npy", True),
                                                  ("broken chunks.jsonl line", True)])
def test_a_damaged_index_is_rebuilt_by_the_build_reusing_what_checks_out(built_settings, embedder, tmp_path, kind,
                                                                         embeds_chunks):
    settings = copy_index(built_settings, tmp_path)
    damaged = current_version(settings.index_dir)
    intact = load_index(settings.index_dir)
    sentences = set(intact.sentences.texts)  # a one-sentence chunk's vector is also its sentence's
    chunk_vectors_lost = sum(1 for c in intact.chunks if c.text not in sentences)
    damage(damaged, kind)
    with pytest.raises(IndexProblem, match="rebuild it with `cqqa index`"):
        load_index(settings.index_dir)
    warnings = []
    report = build_index(settings, embedder_factory=lambda: embedder, warn=warnings.append)
    assert not report.up_to_date and any(f"{damaged.name} is damaged" in w for w in warnings), warnings
    assert report.embedded_chunks == (chunk_vectors_lost if embeds_chunks else 0) and chunk_vectors_lost > 40
    assert report.embedded_sentences == 0, "every sentence vector still matched its checksum"
    index = load_index(settings.index_dir)
    assert index.version != damaged.name and len(index.chunks) == index.vector_index.size == report.chunks
    hits = Searcher(settings, embedder=embedder).search("what did Yin Qi say about AI 2.0", k=1)
    assert "2.0" in hits[0].text
    assert build_index(settings, embedder_factory=lambda: pytest.fail("no model needed")).up_to_date


def test_a_garbage_manifest_is_repaired_by_cqqa_index_from_the_kept_version(built_settings, embedder, tmp_path):
    """The advice in the error message works, over the real command line."""
    settings = copy_index(built_settings, tmp_path)
    kept = load_index(settings.index_dir)
    kept_texts = {c.text for c in kept.chunks} | set(kept.sentences.texts)
    path = settings.source_dir / f"{FEATURE}.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("西南工業重鎮", "一座工業重鎮"), encoding="utf-8")
    build_index(settings, embedder_factory=lambda: embedder)  # a second version; the first is kept
    (current_version(settings.index_dir) / "manifest.json").write_text("{ garbage", encoding="utf-8")
    search = cqqa("search", "Yin Qi AI 2.0", "--k", "1", settings=settings)
    assert search.returncode == 1 and "rebuild it with `cqqa index`" in search.stderr, search.stderr
    assert "Traceback" not in search.stderr
    index = cqqa("index", "--json", settings=settings)
    assert index.returncode == 0, index.stderr
    report = json.loads(index.stdout)
    assert not report["up_to_date"] and "manifest.json is damaged" in index.stderr
    rebuilt = load_index(settings.index_dir)
    only_in_damaged = ([c.text for c in rebuilt.chunks if c.text not in kept_texts],
                       [t for t in rebuilt.sentences.texts if t not in kept_texts])
    assert all("一座工業重鎮" in t for t in only_in_damaged[0] + only_in_damaged[1])
    assert (report["embedded_chunks"], report["embedded_sentences"]) == tuple(map(len, only_in_damaged)) != (0, 0), \
        "only the edited text, which only the damaged version had, is embedded; the rest comes from the kept version"
    search = cqqa("search", "Yin Qi AI 2.0", "--k", "1", "--json", settings=settings)
    assert search.returncode == 0 and "2.0" in json.loads(search.stdout)["hits"][0]["text"]


def test_force_rebuilds_from_scratch(embedder, tmp_path):
    import dataclasses

    from cqqa.config import Settings

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("两江新区的氢能重卡示范线于今年投入运营。\n", encoding="utf-8")
    settings = dataclasses.replace(Settings.from_env(), source_dir=tmp_path / "src", index_dir=tmp_path / "idx")
    first = build_index(settings, embedder_factory=lambda: embedder)
    forced = build_index(settings, embedder_factory=lambda: embedder, force=True)
    assert not forced.up_to_date and forced.version != first.version
    assert forced.embedded_chunks == first.embedded_chunks == 1 and forced.embedded_sentences == first.embedded_sentences
    assert build_index(settings, embedder_factory=lambda: pytest.fail("no model needed")).up_to_date


def test_sidecar_edits_are_picked_up(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    sidecar = settings.source_dir / f"{DIALOGUE}.meta.toml"
    original = sidecar.read_text(encoding="utf-8")
    before = load_index(settings.index_dir)
    old_title = before.document_meta(DIALOGUE)["title"]
    sidecar.write_text(original.replace(old_title, "新标题：智能汽车时代"), encoding="utf-8")
    report = build_index(settings, embedder_factory=lambda: pytest.fail("a title change embeds nothing"))
    assert report.changed == [DIALOGUE] and report.embedded_chunks == 0
    index = load_index(settings.index_dir)
    assert index.document_meta(DIALOGUE)["title"] == "新标题：智能汽车时代"
    assert {c.title for c in index.chunks if c.doc_id == DIALOGUE} == {"新标题：智能汽车时代"}

    assert 'layout = "wrapped"' in original
    sidecar.write_text(original.replace('layout = "wrapped"', 'layout = "lines"'), encoding="utf-8")
    report = build_index(settings, embedder_factory=lambda: embedder)
    assert report.changed == [DIALOGUE] and report.embedded_chunks > 0, "a layout change re-chunks"
    texts = lambda idx: [c.text for c in idx.chunks if c.doc_id == DIALOGUE]  # noqa: E731
    assert texts(load_index(settings.index_dir)) != texts(before)


def read_only(index_dir: Path, args: list[str]) -> list[str]:
    """args run with index_dir bind-mounted read-only (a user and mount namespace: works as root too)."""
    return ["unshare", "-rm", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(index_dir), *args]


@pytest.fixture
def namespaces():
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("user namespaces are not available here: cannot make a read-only mount")


def test_a_read_only_index_can_be_served_but_not_built_into(built_settings, tmp_path, namespaces):
    settings = copy_index(built_settings, tmp_path)
    where = ["--source", str(settings.source_dir), "--index", str(settings.index_dir)]
    checked = subprocess.run(read_only(settings.index_dir, [CQQA, "index", *where]), capture_output=True, text=True,
                             timeout=300)
    assert checked.returncode == 0 and "is up to date" in checked.stdout, checked.stderr

    port = free_port()
    proc = start_process(read_only(settings.index_dir, [CQQA, "serve", "--port", str(port), *where, "--feedback",
                                                        str(tmp_path / "fb.jsonl")]),
                         "is ready at", timeout=300, env={"CQQA_LLM_BASE_URL": ""})
    try:
        q = urllib.parse.quote("what did Yin Qi say about AI 2.0")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ask?q={q}", timeout=120) as reply:
            answer = json.loads(reply.read())
        assert answer["answerable"] and "2.0" in answer["answer"]
    finally:
        stop_process(proc)

    path = settings.source_dir / f"{FEATURE}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增的一段。\n", encoding="utf-8")
    refused = subprocess.run(read_only(settings.index_dir, [CQQA, "index", *where]), capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("cqqa: error: the index folder")
    assert "is read-only and the index needs rebuilding (source chongqing-ev-capital-feature changed)" in refused.stderr


def test_a_burst_of_saves_rebuilds_once_after_it(built_settings, embedder, tmp_path):
    settings = copy_index(built_settings, tmp_path)
    reports, warnings = [], []
    thread, stop = start_watching(settings, embedder_factory=lambda: embedder, on_report=reports.append,
                                  warn=warnings.append, debounce_ms=800)
    try:
        time.sleep(1.5)  # the watcher is watching
        path = settings.source_dir / "burst.txt"
        for i in range(20):  # 20 saves, 90 ms apart: 1.8 s, longer than the 800 ms of quiet asked for
            path.write_text(f"第{i}次保存：两江新区的氢能重卡示范线投入运营。\n", encoding="utf-8")
            time.sleep(0.09)
        deadline = time.monotonic() + 120
        while not reports and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # any second rebuild would have started by now
    finally:
        stop.set()
        thread.join(10)
    assert len(reports) == 1, [r.to_dict() for r in reports]
    assert reports[0].added == ["burst"] and not warnings
    assert "第19次保存" in load_index(settings.index_dir).document_text("burst")
