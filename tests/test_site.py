"""What the chat says it searches (serve/site.py): settings, then the source folder's site.toml,
then the index; never this project's wording over other articles."""

from __future__ import annotations

import dataclasses

import pytest

from helpers import DOCS_SRC, fake_corpus

from cqqa.errors import ConfigError
from cqqa.index.stores import open_store
from cqqa.serve.site import site_for

pytestmark = pytest.mark.unit

ARTICLES = {f"wiki{n}": f"第{n}篇维基百科条目的标题，这一行很长很长很长很长很长很长很长很长很长\n正文第{n}段。\n" for n in range(24)}


def test_over_other_articles_the_page_names_them_not_the_seed_articles(tmp_path):
    settings = fake_corpus(tmp_path, ARTICLES)
    site = site_for(settings, open_store(settings))
    assert site.title == "cqqa — ask these 24 articles" and site.examples == ()
    assert "第0篇维基百科条目的标题" in site.description and "and 18 more" in site.description
    assert "Chongqing" not in site.title + site.description and "…" in site.description  # long titles cut


def test_the_source_folder_s_site_toml_then_settings_win(tmp_path):
    settings = fake_corpus(tmp_path, ARTICLES)
    (settings.source_dir / "site.toml").write_text('title = "Wiki QA"\nexamples = ["What is 1?", "什么是2？"]\n',
                                                   encoding="utf-8")
    site = site_for(settings, open_store(settings))
    assert site.title == "Wiki QA" and site.examples == ("What is 1?", "什么是2？")
    assert "24" not in site.title and site.description.startswith("Searches")  # the missing field: from the index
    given = dataclasses.replace(settings, site_title="Team wiki", site_examples=("Who?",))
    assert (site_for(given).title, site_for(given).examples) == ("Team wiki", ("Who?",))


def test_this_project_s_own_site_toml_keeps_its_examples():
    from cqqa.serve.site import from_file

    own = from_file(DOCS_SRC)
    assert "Chongqing" in own["title"] and "What did Yin Qi say about AI 2.0?" in own["examples"]


def test_a_broken_site_toml_says_where_and_how_to_fix_it(tmp_path):
    settings = fake_corpus(tmp_path, ARTICLES)
    (settings.source_dir / "site.toml").write_text('title = "unclosed\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="site.toml is not valid TOML"):
        site_for(settings)
    (settings.source_dir / "site.toml").write_text('examples = "one question"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="examples must be a list"):
        site_for(settings)
