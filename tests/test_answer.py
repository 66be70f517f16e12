"""The extractive composer's pure logic: language, the English lead, refusals (quote selection:
test_quotes.py)."""

from types import SimpleNamespace

import pytest

from cqqa.answer.compose import REFUSAL, compose_extractive, source_name
from cqqa.textnorm import language as question_language

pytestmark = pytest.mark.unit

LONG = "，这句话足够长，不是一句引出下文的开场白，而是有内容的完整陈述。"


@pytest.mark.parametrize("text, lang", [
    ("what did Yin Qi say about AI 2.0", "en"),
    ("印奇怎么看AI 2.0？", "zh-Hans"),
    ("長安汽車的銷量是多少？", "zh-Hant"),
    ("Changan 销量", "zh-Hans"),
])
def test_question_language(text, lang):
    assert question_language(text) == lang


def test_source_name():
    assert source_name({"publication_en": "Chongqing Daily", "event_date": "2025-09-28"}) == \
        "the Chongqing Daily report of 28 September 2025"
    assert source_name({"title_en": "How Chongqing aims", "date": "2025-10"}) == \
        "the article “How Chongqing aims” (October 2025)"


def _hit(chunk_id, doc, text):
    return SimpleNamespace(chunk_id=chunk_id, doc=doc, title="T", text=text, start=0, end=len(text), heading="", page=0)


def _retrieval(hits, scores, answerable, meta=None, absent_terms=(), roles=()):
    """A search.Retrieval's shape: hits, the decision, sentence scores per hit, the index's metadata."""
    index = SimpleNamespace(document_meta=lambda doc: (meta or {}).get(doc, {}))
    return SimpleNamespace(hits=hits, answerable=answerable, absent_terms=list(absent_terms), index=index,
                           plan=SimpleNamespace(query="q"), index_version="v1", sentence_scores=scores,
                           roles=list(roles))


def test_compose_numbers_citations_and_leads_in_english():
    one, two, three = (f"{s}{LONG}" for s in ("甲说了第一件事", "甲说了第二件事", "乙说了另一件事情"))
    hits = [_hit("a#1", "a", one + two), _hit("b#4", "b", three)]
    scores = {"a#1": [(one, 0.7), (two, 0.2)], "b#4": [(three, 0.68)]}
    meta = {"a": {"publication_en": "Chongqing Daily"}, "b": {"title_en": "Feature"}}
    answer = compose_extractive("what did they say?", _retrieval(hits, lambda h: scores[h.chunk_id], True, meta))
    assert answer.answer.splitlines() == [
        "From the Chongqing Daily report [1] and the article “Feature” [2]:",
        f"「{one}」[1]",
        f"「{three}」[2]",
    ]
    assert [(c.n, c.chunk_id, c.quotes) for c in answer.citations] == [(1, "a#1", [one]), (2, "b#4", [three])]


def test_chinese_question_gets_quotes_without_lead():
    hits = [_hit("a#1", "a", "甲说了第一件事。")]
    answer = compose_extractive("甲说了什么？", _retrieval(hits, lambda h: [("甲说了第一件事。", 0.7)], True))
    assert answer.answer == "「甲说了第一件事。」[1]"
    assert (answer.query, answer.index_version) == ("q", "v1")


@pytest.mark.parametrize("question, lang", [("What?", "en"), ("说了什么？", "zh-Hans"), ("說了什麼？", "zh-Hant")])
def test_refusal_offers_related_passages_not_citations(question, lang):
    hits = [_hit("a#1", "a", "甲说了第一件事。"), _hit("a#2", "a", "乙。")]
    answer = compose_extractive(question, _retrieval(hits, lambda h: [], False))
    closest = "the article “T”" if lang == "en" else "《T》"
    assert answer.answer == REFUSAL[lang].format(closest=closest) and not answer.answerable
    assert answer.citations == [] and [r.chunk_id for r in answer.related] == ["a#1", "a#2"]


@pytest.mark.parametrize("question, said", [
    ("What was Seres's net profit?", "The closest is the Chongqing Daily report of 3 May 2025: the passages"),
    ("赛力斯的净利润是多少？", "最接近的是《重庆智能网联新能源汽车》："),
    ("賽力斯的淨利潤是多少？", "最接近的是《重慶智能網聯新能源汽車》："),
])
def test_refusal_names_the_closest_article_in_the_askers_language(question, said):
    """A near miss: the closest article is named (the chat links it in the sources panel) and
    its passages are said not to say it, in the asker's language and script."""
    meta = {"a": {"title": "重慶智能網聯新能源汽車", "publication_en": "Chongqing Daily", "date": "2025-05-03"}}
    answer = compose_extractive(question, _retrieval([_hit("a#1", "a", "赛力斯卖了很多车。")], lambda h: [], False,
                                                meta=meta))
    assert said in answer.answer and not answer.answerable and answer.citations == []
    assert "do not say it" in answer.answer or "并没有说到" in answer.answer or "並沒有說到" in answer.answer


@pytest.mark.parametrize("question, terms, said", [
    ("赛力斯的净利润是多少？", ["净利润"], "文章中没有出现“净利润”。"),
    ("賽力斯的淨利潤和員工？", ["淨利潤", "員工"], "文章中沒有出現“淨利潤”、“員工”。"),
])
def test_refusal_names_the_words_the_articles_never_use(question, terms, said):
    answer = compose_extractive(question, _retrieval([_hit("a#1", "a", "甲。")], lambda h: [], False,
                                                absent_terms=terms))
    lang = question_language(question)
    assert answer.answer == said + REFUSAL[lang].format(closest="《T》") and not answer.answerable


def test_absent_words_are_not_mentioned_when_the_question_is_answered():
    answer = compose_extractive("甲说了什么？", _retrieval([_hit("a#1", "a", "甲说了第一件事。")],
                                                           lambda h: [("甲说了第一件事。", 0.7)], True,
                                                           absent_terms=["净利润"]))
    assert "净利润" not in answer.answer


@pytest.mark.parametrize("question, source, shown", [
    ("长安汽车销量多少？", "長安汽車累計銷量為206.6萬輛。", "长安汽车累计销量为206.6万辆。"),
    ("長安汽車銷量多少？", "长安汽车累计销量为206.6万辆。", "長安汽車累計銷量為206.6萬輛。"),
    ("What were Changan's sales?", "長安汽車累計銷量為206.6萬輛。", "長安汽車累計銷量為206.6萬輛。"),
])
def test_quotes_are_shown_in_the_questions_script_and_cited_in_the_sources(question, source, shown):
    answer = compose_extractive(question, _retrieval([_hit("a#1", "a", source)], lambda h: [(source, 0.7)], True))
    assert f"「{shown}」[1]" in answer.answer
    assert answer.citations[0].quotes == [source], "the citation keeps the article's own text"
