"""The checks by code on a translation (checks.py): numbers, names, script."""

from __future__ import annotations

import pytest

from cqqa.answer.checks import check

pytestmark = pytest.mark.unit

NAMES = {"赛力斯": ["Seres"], "长安": ["Changan", "Chang'an"], "华为": ["Huawei"], "印奇": ["Yin Qi", "Yinqi"]}
SOURCE = "數據顯示,今年1-8月賽力斯新能源汽車累計銷量達27.9萬輛,同比增長381.75%。"


def test_a_faithful_translation_passes():
    result = check("Seres sold 279,000 new-energy vehicles in January-August, up 381.75%.", SOURCE, NAMES,
                   {"赛力斯": "Seres"})
    assert result.passed and result.problems == []


def test_a_wrong_number_fails_with_the_source_numbers_named():
    result = check("Seres sold 27.9 million vehicles.", SOURCE, NAMES, {"赛力斯": "Seres"})
    assert not result.numbers and result.names and result.script
    assert "27.9 million" in result.problems[0] and "27.9萬" in result.problems[0]


def test_a_name_the_source_does_not_have_fails():
    result = check("Huawei sold 279,000 vehicles.", SOURCE, NAMES, {"赛力斯": "Seres"})
    assert not result.names
    assert any("Huawei (华为)" in p for p in result.problems)
    assert any("leaves out: Seres (赛力斯)" in p for p in result.problems)


def test_a_name_in_another_spelling_passes():
    result = check("New Chang'an will sell 5 million cars.", "新長安力爭實現年銷500萬輛", NAMES, {"长安": "Changan"})
    assert result.passed


def test_chinese_left_in_the_text_fails():
    result = check("Seres 新能源 vehicles sold 279,000.", SOURCE, NAMES, {"赛力斯": "Seres"})
    assert not result.script and "新能源" in result.problems[-1]
