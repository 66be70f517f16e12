"""The staleness warning of `cqqa search`/`ask`: cheap when nothing changed (names and times only,
the articles never read), the full comparison when something looks newer. Fake embedder."""

import dataclasses
import os
import time

import pytest

from fakes import FakeEmbedder

from cqqa.config import Settings
from cqqa.index import staleness
from cqqa.index.build import build_index

pytestmark = pytest.mark.unit


@pytest.fixture
def built(tmp_path):
    (tmp_path / "src").mkdir()
    for name, text in {"a": "长安汽车销量\n长安汽车今年销量为206.6万辆。\n", "b": "氢能重卡\n示范线投入运营。\n"}.items():
        (tmp_path / "src" / f"{name}.txt").write_text(text, encoding="utf-8")
    old = time.time() - 60  # the articles were written a minute before the build
    for path in (tmp_path / "src").iterdir():
        os.utime(path, (old, old))
    settings = dataclasses.replace(Settings(), source_dir=tmp_path / "src", index_dir=tmp_path / "idx",
                                   model=FakeEmbedder.identity.name)
    build_index(settings, embedder_factory=FakeEmbedder)
    return settings


def test_a_current_index_is_checked_without_reading_the_articles(built, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("the articles were read on a question's path")

    monkeypatch.setattr(staleness, "load_sources", no_reading)
    assert staleness.stale_warning(built) is None


def test_an_edited_article_is_reported(built):
    (built.source_dir / "a.txt").write_text("长安汽车销量\n长安汽车今年销量为300万辆。\n", encoding="utf-8")
    assert "source a changed" in staleness.stale_warning(built)


def test_a_new_or_removed_article_is_reported(built):
    (built.source_dir / "c.txt").write_text("新文章\n内容。\n", encoding="utf-8")
    assert "new source c" in staleness.stale_warning(built)
    (built.source_dir / "c.txt").unlink()
    (built.source_dir / "b.txt").unlink()
    assert "source b was removed" in staleness.stale_warning(built)


def test_a_touched_but_unchanged_article_is_not_stale(built):
    (built.source_dir / "a.txt").touch()  # newer, so the contents are compared: the same
    assert staleness.stale_warning(built) is None


def test_an_edited_sidecar_is_reported(built):
    (built.source_dir / "a.meta.toml").write_text('title = "新标题"\n', encoding="utf-8")
    assert "metadata (.meta.toml) of a changed" in staleness.stale_warning(built)
