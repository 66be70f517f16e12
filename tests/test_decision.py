"""The refusal decision (retrieve/decision.py): its rules, its file, and where it is found."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cqqa.errors import ConfigError
from cqqa.retrieve.decision import FILE, Decision, Signals, Thresholds
from cqqa.textnorm import language, language_family

pytestmark = pytest.mark.unit

DECISION = Decision({"en": Thresholds(0.30, 0.40, 0.20), "zh": Thresholds(0.40, 0.50, 0.25)})


def signals(lang="en", score=0.35, absent=False, year=False, anchored=False, lookup=False, identifier=False) -> Signals:
    return Signals(lang, score, absent, year, anchored, lookup, identifier)


def test_each_language_has_its_own_threshold():
    assert DECISION.answerable(signals("en", 0.35)) is True
    assert DECISION.answerable(signals("zh", 0.35)) is False
    family = lambda q: language_family(language(q))  # noqa: E731
    assert family("How many tackles did Luke Kuechly register?") == "en"
    assert family("坎克利擒抱了多少次？") == "zh" and family("問界M8的售價是多少？") == "zh"


def test_absent_terms_raise_the_bar_and_an_anchor_lowers_it():
    assert DECISION.answerable(signals(score=0.35, absent=True)) is False
    assert DECISION.answerable(signals(score=0.45, absent=True)) is True
    assert DECISION.answerable(signals(score=0.25)) is False
    assert DECISION.answerable(signals(score=0.25, anchored=True)) is True


def test_an_identifier_takes_the_lower_of_the_plain_and_anchored_thresholds():
    raised = Decision({"en": Thresholds(0.30, 0.40, 0.38), "zh": Thresholds(0.40, 0.50, 0.25)})
    assert raised.answerable(signals(score=0.335, anchored=True)) is False  # names anchor little here
    assert raised.answerable(signals(score=0.335, anchored=True, identifier=True)) is True  # 33618
    assert DECISION.answerable(signals(score=0.21, identifier=True)) is True


def test_an_absent_year_refuses_and_a_lookup_answers_whatever_the_score():
    assert DECISION.answerable(signals(score=0.9, year=True)) is False
    assert DECISION.answerable(signals(score=0.0, lookup=True)) is True
    assert DECISION.answerable(signals(score=None)) is True  # lexical mode: nothing to judge by


def test_explain_names_the_rule_and_the_numbers():
    line = DECISION.explain(signals(score=0.25, anchored=True))
    assert line.startswith("answerable") and "0.250" in line and "0.200" in line and "a name of the question" in line
    assert DECISION.explain(signals("zh", 0.35)).startswith("not in the articles")


def test_a_decision_survives_save_and_load(tmp_path):
    DECISION.save(tmp_path / FILE)
    assert Decision.load(tmp_path / FILE) == DECISION
    assert not list(tmp_path.glob("*.tmp"))


def test_the_index_calibration_wins_over_the_default(tmp_path):
    assert Decision.for_index(tmp_path) == Decision.default()
    DECISION.save(tmp_path / FILE)
    assert Decision.for_index(tmp_path) == DECISION


def test_the_default_covers_both_languages_and_says_how_it_was_fitted():
    default = Decision.default()
    assert set(default.thresholds) == {"en", "zh"}
    assert "held out" in default.fitted_on and "one paragraph removed" in default.fitted_on
    for t in default.thresholds.values():
        assert t.plain <= t.with_absent_terms  # a term the articles never use never lowers the bar
        assert 0 < t.judge_below < 1 and 0 < t.judge_min < 1  # the reader judges unsure answers in both languages
    assert default.thresholds["zh"].per_unwritten > 0 and default.thresholds["en"].per_unwritten == 0


@pytest.mark.parametrize("content", ["not json", json.dumps({"thresholds": {"en": {"plain": 0.3}}}),
                                     json.dumps({"thresholds": {"en": {"plain": 0.3, "with_absent_terms": 0.4,
                                                                        "anchored": 0.2}}})])
def test_a_broken_decision_file_is_a_clear_error(tmp_path, content):
    (tmp_path / FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="cqqa calibrate"):
        Decision.for_index(tmp_path)


def test_unwritten_terms_raise_a_chinese_bar_by_the_fitted_slope():
    sloped = Decision({"en": Thresholds(0.30, 0.40, 0.20), "zh": Thresholds(0.30, 0.50, 0.25, per_unwritten=0.2)})
    whole = dataclasses.replace(signals("zh", 0.35), unwritten=0.0)
    half = dataclasses.replace(signals("zh", 0.35), unwritten=0.5)  # bar 0.30 + 0.2 * 0.5 = 0.40
    assert sloped.answerable(whole) is True and sloped.answerable(half) is False
    assert sloped.bar(half) == pytest.approx(0.40) and sloped.base_bar(half) == 0.30
    assert "raised" in sloped.explain(half) and "50%" in sloped.explain(half)
    assert "raised" not in sloped.explain(whole)
    assert DECISION.answerable(dataclasses.replace(signals("zh", 0.45), unwritten=1.0)) is True  # no slope: as before


def test_a_decision_file_from_before_the_slope_still_loads(tmp_path):
    data = json.loads(DECISION.to_json())
    for t in data["thresholds"].values():
        del t["per_unwritten"]
    (tmp_path / FILE).write_text(json.dumps(data), encoding="utf-8")
    assert Decision.load(tmp_path / FILE) == DECISION
