"""The OpenAI-compatible client and the generative answer path, against a real HTTP server process
(tests/fake_openai_server.py) and the real index and model."""

from __future__ import annotations

import pytest

from cqqa.answer.assistant import Assistant
from cqqa.config import LLMSettings
from cqqa.errors import LLMError
from cqqa.answer.grounding import answer_messages
from cqqa.models.llm import ChatClient
from helpers import free_port

pytestmark = pytest.mark.unit


def client(url: str, model: str, timeout: float = 2.0) -> ChatClient:
    return ChatClient(LLMSettings(url, model, "secret", timeout))


@pytest.mark.integration
def test_stream_yields_pieces_as_they_arrive(llm_url):
    messages = [{"role": "system", "content": "Answer."}, {"role": "user", "content": "[1] T\nABCDEFGHIJ\n\nQ"}]
    pieces = list(client(llm_url, "cite").stream(messages))
    assert len(pieces) == 3
    assert "ABCDEFGH" in "".join(pieces)


@pytest.mark.integration
@pytest.mark.parametrize("model, message", [
    ("error", "HTTP 500"),
    ("malformed", "malformed reply"),
    ("slow", "did not answer within 1 s"),
    ("stall", "did not answer within 1 s"),
])
def test_failures_become_clear_errors(llm_url, model, message):
    with pytest.raises(LLMError, match=message):
        list(client(llm_url, model, timeout=1.0).stream([{"role": "system", "content": "x"},
                                                         {"role": "user", "content": "y"}]))


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(LLMError, match="could not reach"):
        list(client(f"http://127.0.0.1:{free_port()}/v1", "cite").stream([{"role": "user", "content": "y"}]))


@pytest.mark.integration
def test_prompt_numbers_passages_and_names_the_language(searcher):
    from cqqa.answer.types import citation_from_hit

    hits = searcher.search("what did Yin Qi say about AI 2.0", k=2)
    messages = answer_messages("what did Yin Qi say about AI 2.0", "en",
                               [citation_from_hit(h, i + 1) for i, h in enumerate(hits)])
    assert "Answer in English" in messages[0]["content"]
    assert f"[1] {hits[0].title}\n{hits[0].text}" in messages[1]["content"]
    assert f"[2] {hits[1].title}" in messages[1]["content"]


@pytest.fixture(scope="module")
def assistants(built_settings, embedder, llm_url):
    def make(model: str, timeout: float = 2.0) -> Assistant:
        return Assistant(built_settings, embedder=embedder, llm=LLMSettings(llm_url, model, "", timeout, mode="generate"))
    return make


@pytest.mark.integration
def test_generative_answer_streams_and_its_citations_are_attached_by_the_project(assistants):
    events = list(assistants("ground").stream("what did Yin Qi say about AI 2.0"))
    partial = [e for e in events if isinstance(e, str)]
    answer = events[-1]
    assert len(partial) >= 3 and partial[-1].endswith("Moon [1].")  # streamed as written
    assert answer.composer == "generative"
    first = answer.citations[0]
    # the passage's own sentence is kept and cited by the project as [1], not the model's [3]
    assert answer.answer.endswith("[1]") and "[3]" not in answer.answer and [c.n for c in answer.citations] == [1]
    assert first.quotes and first.quotes[0] in first.text and first.quotes[0] in answer.answer
    # the sentence no passage supports is left out, and the notice says so
    assert "rockets" not in answer.answer
    assert "Left out" in answer.notice and "no passage supports it" in answer.notice


@pytest.mark.parametrize("model, notice", [
    ("cite", "No sentence of the language model's answer is supported"),
    ("slow", "did not answer within"),
    ("malformed", "malformed"),
    ("error", "HTTP 500"),
])
@pytest.mark.integration
def test_generative_failures_fall_back_to_the_extractive_answer(assistants, model, notice):
    answer = assistants(model, timeout=1.0).ask("what did Yin Qi say about AI 2.0")
    assert answer.composer == "extractive"
    assert notice in answer.notice
    assert answer.citations and "「" in answer.answer


@pytest.mark.integration
def test_unanswerable_questions_never_reach_the_model(assistants):
    answer = assistants("error").ask("How many employees does Seres have?")
    assert not answer.answerable and answer.notice == ""  # the failing model was not called


@pytest.mark.integration
def test_follow_up_is_rewritten_by_the_model(assistants):
    answer = assistants("rewrite").ask("and what about safety?", ["What did Li Shufu say about AI?"])
    assert answer.query == "What did Li Shufu say about safety?"
    assert any("李书福" in q and "安全" in q for c in answer.citations for q in c.quotes)
