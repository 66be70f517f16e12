"""Shared fixtures. The real embedding model is loaded once per test session."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cqqa.models import files as models
from cqqa.config import Settings

from helpers import DOCS_SRC, ROOT


def pytest_configure(config):
    # Processes the tests start (cqqa serve, cqqa ask) run without the bundled reader unless a test
    # turns it on (env CQQA_READER=auto: test_web.py, test_cli.py) or passes one (test_reader.py):
    # it costs ~3.5 s to start and ~4 s per English quote, and most tests are about something else.
    os.environ["CQQA_READER"] = "0"
    # Servers the tests start let everyone in (no users) unless a test gives them users: never the
    # users file of whoever runs the tests (users/users.sqlite3 under the working folder).
    import tempfile

    os.environ["CQQA_USERS_FILE"] = str(Path(tempfile.mkdtemp(prefix="cqqa-no-users-")) / "users.sqlite3")


@pytest.fixture(scope="session")
def embedder():
    if not models.is_fetched(models.bundled_model_path()):
        pytest.fail("the embedding model is not fetched: run `make test` (or `cqqa models fetch`) first")
    from cqqa.models.torch_embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(models.BUNDLED_MODEL)


@pytest.fixture(scope="session")
def int8_embedder(embedder):
    """The int8 ONNX embedder, prepared once into the model cache as `cqqa models fetch` does on
    CPUs without bf16 (test_onnx_embedding.py tests what users get where it cannot be)."""
    from cqqa.config import DEFAULT_MODEL
    from cqqa.errors import ModelFetchError
    from cqqa.models import cpu, onnx_embedding, onnx_export

    try:
        onnx_export.prepare()
    except ModelFetchError as exc:  # the probe failed on this CPU class: users get torch here
        pytest.skip(f"the int8 embedder cannot be prepared on this CPU ({cpu.cpu_class()}): {exc}")
    return onnx_embedding.OnnxEmbedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A private copy of docs_src/, so tests never touch the real one."""
    target = tmp_path_factory.mktemp("corpus") / "docs_src"
    shutil.copytree(DOCS_SRC, target)
    return target


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, corpus_dir, embedder) -> Settings:
    """Settings whose index was built from the corpus copy with the real model."""
    from cqqa.index.build import build_index

    settings = dataclasses.replace(
        Settings.from_env(), source_dir=corpus_dir, index_dir=tmp_path_factory.mktemp("index")
    )
    build_index(settings, embedder_factory=lambda: embedder)
    # the corpus's own refusal decision, as `cqqa` uses it for docs_src (index/README.md)
    shutil.copy(ROOT / "index" / "decision.json", settings.index_dir / "decision.json")
    return settings


@pytest.fixture(scope="session")
def searcher(built_settings, embedder):
    from cqqa.retrieve.search import Searcher

    return Searcher(built_settings, embedder=embedder)



@pytest.fixture(scope="session")
def local_reader():
    """The bundled reader (llama.cpp server with the fetched GGUF), started once."""
    from cqqa.answer.readers import ReaderSource
    from cqqa.config import LLMSettings, ReaderSettings
    from cqqa.models import reader_model

    if not reader_model.is_fetched():
        pytest.fail("the reader model is not fetched: run `make test` (or `cqqa models fetch --only reader`)")
    return ReaderSource.open(LLMSettings(), ReaderSettings(), require=True).bundled


@pytest.fixture(scope="session")
def llm_url():
    """A fake OpenAI-compatible chat server, a real process (tests/fake_openai_server.py)."""
    import sys

    from helpers import free_port, start_process, stop_process

    port = free_port()
    proc = start_process([sys.executable, str(Path(__file__).with_name("fake_openai_server.py")), str(port)],
                         "ready", timeout=30)
    yield f"http://127.0.0.1:{port}/v1"
    stop_process(proc)


TIERS = ("unit", "integration", "browser")  # each test file says its tier (pytestmark); a test may raise its own
# Fixtures that load a real model or start a process: a test using one is not a unit test.
HEAVY_FIXTURES = {"embedder", "int8_embedder", "local_reader", "llm_url"}


def tier_of(item) -> str | None:
    """The highest tier among a test's markers (a file's pytestmark, raised by the test's own)."""
    marked = [tier for tier in TIERS if item.get_closest_marker(tier)]
    return marked[-1] if marked else None


def pytest_collection_modifyitems(items):
    """Every test has a tier, and a unit test uses no real model: checked here, not inferred.
    Unit tests start no process either: `_no_process_if_unit` fails one that does."""
    wrong = []
    for item in items:
        tier = tier_of(item)
        if tier is None:
            wrong.append(f"{item.nodeid}: no tier; set pytestmark = pytest.mark.unit/integration/browser")
        elif tier == "unit" and (HEAVY_FIXTURES & set(getattr(item, "fixturenames", ()))
                                 or item.get_closest_marker("needs_model_files")):
            wrong.append(f"{item.nodeid}: loads a real model or starts a process; mark it integration")
    if wrong:
        raise pytest.UsageError("tests in the wrong tier (tests/README.md):\n" + "\n".join(wrong))


def _refuse_process(self, *args, **kwargs):
    raise AssertionError("a unit test started a process: mark it pytest.mark.integration")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """A unit test's set-up (its fixtures, of any scope, are set up here) starts no process."""
    with _no_process_if_unit(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _no_process_if_unit(item):
        yield


@contextlib.contextmanager
def _no_process_if_unit(item):
    if tier_of(item) != "unit":
        yield
        return
    original = subprocess.Popen.__init__
    subprocess.Popen.__init__ = _refuse_process
    try:
        yield
    finally:
        subprocess.Popen.__init__ = original


CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright (test_web.py, test_access_web.py)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: `make test` installs it (apt-get install chromium "
                    "fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()
