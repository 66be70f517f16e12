"""The reader (reader.py): a quote's translation streamed, then checked by code.

Every failure path runs against a real HTTP server process (tests/fake_openai_server.py); the
real bundled reader (Qwen2.5-Coder-1.5B on llama.cpp) proves an English question gets an
English translation whose numbers match the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from cqqa.config import LLMSettings
from cqqa.models.llm import ChatClient
from cqqa.index.names import NameBridge
from cqqa.answer.quantities import english_quantities
from cqqa.answer.reader import Reader, without_preamble
from cqqa.textnorm import has_han
from helpers import free_port

pytestmark = pytest.mark.unit

BRIDGE = NameBridge({"seres": ["赛力斯"], "changan": ["长安"], "yin qi": ["印奇"], "chongqing": ["重庆"]},
                    subjects=["赛力斯", "长安", "印奇"])
QUOTE = "數據顯示,今年1-8月賽力斯新能源汽車累計銷量達27.9萬輛,同比增長381.75%。"


def translate(url: str, model: str, quote: str = QUOTE, timeout: float = 2.0):
    reader = Reader(ChatClient(LLMSettings(url, model, "", timeout)), BRIDGE)
    return list(reader.translate(1, quote))


def test_prepared_input_has_digits_and_english_names():
    reader = Reader(None, BRIDGE)
    text, given = reader.prepare("長安汽車前三季度銷量206.6萬輛,賽力斯和印奇")
    assert text == "Changan 汽车前三季度销量 2.066 million 辆, Seres 和 Yin Qi"
    assert given == {"长安": "Changan", "赛力斯": "Seres", "印奇": "Yin Qi"}


def test_a_line_introducing_the_translation_is_not_part_of_it():
    written = ('The Chinese news sentence "New energy rush to 1,300,000 vehicles?" translates to English as:\n'
               '"New energy rushes to 1,300,000 vehicles?"')  # the bundled reader, s002
    assert without_preamble(written) == '"New energy rushes to 1,300,000 vehicles?"'
    assert without_preamble("Here is the translation: Seres sold 279,000 cars.") == "Seres sold 279,000 cars."
    assert without_preamble("  Seres sold 279,000 cars: a record.  ") == "Seres sold 279,000 cars: a record."
    assert without_preamble("Translation:") == ""  # nothing follows: "the reader wrote nothing"


@pytest.mark.integration
def test_translation_streams_then_is_checked(llm_url):
    events = translate(llm_url, "cite")
    assert [e.status for e in events[:-1]] == ["writing"] * (len(events) - 1) and len(events) > 2
    final = events[-1]
    assert final.status == "checked" and final.checks == {"numbers": True, "names": True, "script": True}
    assert "Seres" in final.text and "279,000" in final.text
    assert final.first_token_seconds is not None and final.seconds >= final.first_token_seconds


@pytest.mark.integration
@pytest.mark.parametrize("model, failed_check, reason", [
    ("wrongnumber", "numbers", "27,900,000"),
    ("chinese", "script", "Chinese left untranslated"),
    ("dropname", "names", "leaves out: Seres (赛力斯)"),
])
def test_a_translation_failing_a_check_is_withheld(llm_url, model, failed_check, reason):
    final = translate(llm_url, model)[-1]
    assert final.status == "withheld" and final.text == "" and final.draft
    assert final.checks[failed_check] is False
    assert any(reason in p for p in final.problems), final.problems


@pytest.mark.integration
@pytest.mark.parametrize("model, reason", [
    ("error", "HTTP 500"), ("slow", "did not answer within 1 s"), ("malformed", "malformed reply"),
])
def test_a_server_failure_is_reported_not_raised(llm_url, model, reason):
    final = translate(llm_url, model, timeout=1.0)[-1]
    assert final.status == "failed" and final.text == ""
    assert reason in final.problems[0]


def test_unreachable_reader_is_reported():
    final = translate(f"http://127.0.0.1:{free_port()}/v1", "cite")[-1]
    assert final.status == "failed" and "could not reach" in final.problems[0]


# ---------------------------------------------------------------- the real reader model


@pytest.mark.integration
def test_bundled_reader_translates_with_the_right_numbers(local_reader):
    reader = Reader(ChatClient(local_reader.settings), BRIDGE, "bundled")
    final = list(reader.translate(1, "长安汽车今年前三季度累计销量达206.6万辆，同比增长8.8%。"))[-1]
    assert final.status == "checked", (final.draft, final.problems)
    assert not has_han(final.text) and "Changan" in final.text
    values = [q.value for q in english_quantities(final.text)]
    assert any(abs(v - 2_066_000) < 5_000 for v in values), final.text  # 2.066 million, not 206.6 million
    assert 8.8 in values


@pytest.mark.integration
def test_the_bundled_reader_does_not_keep_its_model_file_mapped(local_reader):
    """llama.cpp repacks the weights into memory of its own: a mapping of the 1.1 GB file kept it
    resident beside that copy (the serving process was 0.6 GB larger; local_reader.server_params)."""
    mapped = Path("/proc/self/maps").read_text()
    assert local_reader.model_path.name not in mapped
    assert local_reader.model_path.stat().st_size > 500_000_000  # it is the real model that was loaded


@pytest.mark.integration
def test_assistant_answers_an_english_question_with_checked_translations(built_settings, embedder, local_reader):
    from cqqa.answer.assistant import Assistant
    from cqqa.answer.present import answer_json, readable

    assistant = Assistant(built_settings, embedder=embedder, llm=local_reader.settings)
    events = list(assistant.stream("How many vehicles did Seres sell in the first eight months?"))
    first, final = events[0], events[-1]
    assert first.translations and all(t.status == "pending" for t in first.translations)  # quotes come first
    assert "27.9萬輛" in first.answer
    assert final.reader and [t.quote for t in final.translations] == [q for c in final.citations for q in c.quotes]
    assert all(t.status in ("checked", "withheld") for t in final.translations)
    checked = [t for t in final.translations if t.status == "checked"]
    assert checked and any("279,000" in t.text or "0.279 million" in t.text for t in checked)
    assert "machine translation" in readable(final)
    data = answer_json(final)
    assert data["translations"][0]["status"] in ("checked", "withheld") and data["reader"]
    chinese = assistant.ask("赛力斯前8个月销量多少？")
    assert chinese.translations == []  # Chinese askers read the quote itself (OpenCC), no model


@pytest.mark.integration
def test_without_a_cache_every_quote_is_sent_to_the_model(llm_url):
    reader = Reader(ChatClient(LLMSettings(llm_url, "cite", "", 2.0)), BRIDGE, cache_entries=0)
    assert [len(list(reader.translate(1, QUOTE))) > 2 for _ in range(2)] == [True, True]
    assert reader.cache_hits == 0


@pytest.mark.integration
def test_a_quote_translated_once_is_not_sent_to_the_model_again(llm_url):
    reader = Reader(ChatClient(LLMSettings(llm_url, "cite", "", 2.0)), BRIDGE)
    first = list(reader.translate(1, QUOTE))
    again = list(reader.translate(3, QUOTE))
    assert len(first) > 2 and len(again) == 1, "the second time nothing is streamed: it is the kept translation"
    assert again[0].status == "checked" and again[0].text == first[-1].text and again[0].n == 3
    assert again[0].seconds == 0.0 and (reader.cache_hits, reader.cache_misses) == (1, 1)


@pytest.mark.integration
@pytest.mark.parametrize("model, kept", [("dropname", True), ("error", False)])
def test_a_withheld_translation_is_kept_and_a_failed_one_is_tried_again(llm_url, model, kept):
    reader = Reader(ChatClient(LLMSettings(llm_url, model, "", 2.0)), BRIDGE)
    list(reader.translate(1, QUOTE))
    second = list(reader.translate(1, QUOTE))
    assert second[-1].status == ("withheld" if kept else "failed") and reader.cache_hits == (1 if kept else 0)
