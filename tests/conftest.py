"""Shared fixtures. The real embedding model is loaded once per test session."""

from __future__ import annotations

import dataclasses
import os
import shutil
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


@pytest.fixture(scope="session")
def embedder():
    if not models.is_fetched(models.bundled_model_path()):
        pytest.fail("the embedding model is not fetched: run `make test` (or `cqqa models fetch`) first")
    from cqqa.models.torch_embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(models.BUNDLED_MODEL)


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


def pytest_collection_modifyitems(items):
    """Mark every test that needs the real embedding model (through its fixtures, or the fetched
    files themselves): `pytest -m "not model"` is then the fast layer, a few seconds."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "embedder" in fixtures or "local_reader" in fixtures or item.get_closest_marker("needs_model_files"):
            item.add_marker(pytest.mark.model)
