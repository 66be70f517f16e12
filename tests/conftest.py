"""Shared fixtures. The real embedding model is loaded once per test session."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from cqqa import models
from cqqa.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS_SRC = ROOT / "docs_src"


def squash(text: str) -> str:
    """Text with all whitespace removed, for comparing spans 'whitespace aside'."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="session")
def embedder():
    if not models.is_fetched(models.bundled_model_path()):
        pytest.fail("the embedding model is not fetched: run `make test` (or `cqqa models fetch`) first")
    from cqqa.embedding import SentenceTransformerEmbedder

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
    from cqqa.build import build_index

    settings = dataclasses.replace(
        Settings.from_env(), source_dir=corpus_dir, index_dir=tmp_path_factory.mktemp("index")
    )
    build_index(settings, embedder_factory=lambda: embedder)
    return settings


@pytest.fixture(scope="session")
def searcher(built_settings, embedder):
    from cqqa.search import Searcher

    return Searcher(built_settings, embedder=embedder)



def pytest_collection_modifyitems(items):
    """Mark every test that needs the real embedding model (through its fixtures, or the fetched
    files themselves): `pytest -m "not model"` is then the fast layer, a few seconds."""
    for item in items:
        if "embedder" in getattr(item, "fixturenames", ()) or item.get_closest_marker("needs_model_files"):
            item.add_marker(pytest.mark.model)
