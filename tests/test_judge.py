"""The reader as a judge of near misses (retrieve/judge.py): what it asks, how it reads the
reply (a real HTTP server process, tests/fake_openai_server.py), how its verdict enters the
decision, and the bundled reader's verdicts on real sentences."""

from __future__ import annotations

import pytest

from cqqa.config import LLMSettings
from cqqa.models.llm import ChatClient
from cqqa.retrieve.decision import Decision, Signals, Thresholds
from cqqa.retrieve.judge import SHOTS, Judge, judge_messages, judged_passage
from cqqa.retrieve.search import Hit, QueryPlan, Retrieval
from helpers import free_port

pytestmark = pytest.mark.unit


def judge(url: str, model: str = "cite", warnings: list | None = None) -> Judge:
    return Judge(ChatClient(LLMSettings(url, model, "", 2.0)), (warnings if warnings is not None else []).append)


def test_the_judged_passage_is_the_two_closest_sentences_in_reading_order():
    scores = [("甲。", 0.2), ("乙。", 0.6), ("丙。", 0.1), ("丁。", 0.5)]
    assert judged_passage(scores) == "乙。丁。"
    assert judged_passage([("甲。", 0.3)]) == "甲。"


@pytest.mark.integration
def test_the_probability_of_yes_is_read_from_the_first_tokens_log_probabilities(llm_url):
    assert judge(llm_url).yes("Who founded Geely?", "Seres was founded by Zhang.") == pytest.approx(0.2)
    assert judge(llm_url).yes("Who founded Zhang?", "Seres was founded by Zhang.") == pytest.approx(0.8)
    # a server without log-probabilities: what it wrote counts as certain
    assert judge(llm_url, "nologprobs").yes("Who founded Zhang?", "Seres was founded by Zhang.") == 1.0


@pytest.mark.integration
def test_a_failing_judge_leaves_the_question_unjudged_and_says_why(llm_url):
    warnings: list[str] = []
    assert judge(llm_url, "error", warnings).yes("Who?", "甲。") is None
    assert judge(f"http://127.0.0.1:{free_port()}/v1", "cite", warnings).yes("Who?", "甲。") is None
    assert len(warnings) == 2 and all("decided by similarity alone" in w for w in warnings)
    assert "HTTP 500" in warnings[0] and "could not reach" in warnings[1]


def test_an_english_question_is_asked_after_the_worked_examples_a_chinese_one_bare():
    english, chinese = judge_messages("Who founded Seres?", "甲。", "en"), judge_messages("谁创立了赛力斯？", "甲。", "zh")
    assert [m["role"] for m in english] == ["system"] + ["user", "assistant"] * len(SHOTS) + ["user"]
    assert [m["role"] for m in chinese] == ["system", "user"]
    assert english[-1] == chinese[-1] | {"content": chinese[-1]["content"].replace("谁创立了赛力斯？", "Who founded Seres?")}
    assert {m["content"] for m in english if m["role"] == "assistant"} == {"yes", "no"}
    # the examples are a constant prefix (the server caches it): the same for every question
    assert judge_messages("Who?", "乙。")[:-1] == english[:-1]


class Scripted(Judge):
    """A judge whose verdicts are given: the point here is the decision around it, not the model."""

    def __init__(self, yes):
        super().__init__(client=None)
        self.asked, self._yes = [], yes

    def yes(self, question, passage, lang="en"):
        self.asked.append((question, passage))
        return self._yes


DECISION = Decision({lang: Thresholds(0.30, 0.60, 0.30, judge_below=0.50, judge_min=0.45) for lang in ("en", "zh")})


class Sentences(Retrieval):
    def sentence_scores(self, hit):  # the best passage's sentences, as the index would give them
        return [("特斯拉于1900年获得专利。", 0.40), ("他很有名。", 0.1)]


def retrieval(score: float) -> Retrieval:
    signals = Signals("en", score, False, False, False, False)
    hit = Hit(1, "t#1", "t", "Tesla", "", "特斯拉于1900年获得专利。他很有名。", 0, 20, score)
    return Sentences(QueryPlan("Who did Tesla partner with in 1886?", [], [], 0.0), [hit],
                     DECISION.answerable(signals), [], signals=signals)


def test_only_unsure_answers_are_judged_and_a_no_refuses_them():
    no, yes = Scripted(0.2), Scripted(0.9)
    judged = no.verdict(retrieval(0.40), DECISION)
    assert judged.answerable is False and judged.signals.judged == 0.2
    assert no.asked == [("Who did Tesla partner with in 1886?", "特斯拉于1900年获得专利。他很有名。")]
    assert "not in the articles" in DECISION.explain(judged.signals) and "0.20 (needs 0.45)" in DECISION.explain(judged.signals)
    assert yes.verdict(retrieval(0.40), DECISION).answerable is True
    sure, far = Scripted(0.0), Scripted(1.0)
    assert sure.verdict(retrieval(0.55), DECISION).answerable is True and sure.asked == []  # above judge_below
    assert far.verdict(retrieval(0.25), DECISION).answerable is False and far.asked == []  # already refused
    assert Scripted(None).verdict(retrieval(0.40), DECISION).answerable is True  # the judge failed: as before


MANNING = "培顿·曼宁成为史上首位带领两支不同球队多次进入超级碗的四分卫。他也以 39 岁高龄参加超级碗而成为史上年龄最大的四分卫。"


@pytest.mark.integration
@pytest.mark.parametrize("question, passage, states", [
    # xquad-dev near misses: the article is still about the player / the topic, the asked fact is gone
    # (the two sentences judge.py gives the reader, as the search finds them on that corpus)
    ("How many career sacks did Jared Allen have?", MANNING, False),
    ("How many interceptions are the Panthers defense credited with in 2015?", MANNING, False),
    ("Who was the first Doctor to travel with a married couple?",
     "神秘博士 很少 独自旅行，经常带一个或多个同伴来分享这些冒险经历。博士在旅途中遭遇了无数的敌人，包括戴立克人、赛博人，"
     "以及另一位变节的时间领主—— 大师1号。", False),
    # answerable ones of the same set, their evidence in the passage
    ("How many square kilometers is the Amazon Basin?",
     "这一盆地达 7,000,000平方公里（2,700,000平方英里） ,其中 5,500,000 平方公里（2,100,000平方英里）被雨林覆盖。", True),
    ("Who was the final Prime Minister of East Germany?",
     "德意志民主共和国（东德）的最后一任总理 洛塔尔·德梅齐埃 也是胡格诺派后裔，还有德国 内政部长 托马斯·德迈齐埃。", True),
])
def test_the_bundled_reader_judges_real_near_misses_below_the_default_bar(local_reader, question, passage, states):
    """The default decision's judge_min for English, on sentences of xquad-dev (its near-miss
    construction, ../shared/benchmarks/xquad-dev-near-misses)."""
    minimum = Decision.default().thresholds["en"].judge_min
    yes = Judge(ChatClient(local_reader.settings)).yes(question, passage)
    assert yes is not None and (yes >= minimum + 0.2 if states else yes < minimum), (question, yes, minimum)


@pytest.mark.integration
def test_the_bundled_reader_holds_the_worked_examples_before_the_first_question():
    """Their first prefill took 7.5 s on 2 cores: ReaderSource.judge warms a fresh bundled
    reader with them, so the first English question reuses them from the server's cache."""
    import httpx

    from cqqa.answer.readers import ReaderSource
    from cqqa.config import ReaderSettings

    source = ReaderSource.open(LLMSettings(), ReaderSettings(), require=True)  # a fresh server: nothing cached
    judged = source.judge()
    assert judged.warming is not None
    judged.warming.join(120)
    body = {"messages": judge_messages("Who founded Seres?", "赛力斯由张兴海创立。"), "max_tokens": 1, "temperature": 0}
    timings = httpx.post(f"{source.client.settings.base_url}/chat/completions", json=body, timeout=120).json()["timings"]
    assert timings["cache_n"] > 4 * timings["prompt_n"], timings  # the examples came from the cache
