"""Numbers by value in Chinese and English (quantities.py): the reader's number check rests on these."""

from __future__ import annotations

import pytest

from cqqa.answer.quantities import chinese_quantities, english_magnitudes, english_quantities, unsupported

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, values", [
    ("长安汽车2023年销量206.6万辆，同比增长8.8%。", [2023, 2_066_000, 8.8]),
    ("重慶還設立了200億元的基金", [20_000_000_000]),
    ("工业经济总量突破4万亿元", [4_000_000_000_000]),
    ("产值两千亿元，增长百分之五十", [200_000_000_000, 50]),
    ("１２３家企业", [123]),
    ("下滑,28年來的首次", [28]),
    ("1.5萬億元", [1_500_000_000_000]),
    ("2,066,000辆", [2_066_000]),
])
def test_chinese_numbers_by_value(text, values):
    assert [q.value for q in chinese_quantities(text)] == pytest.approx(values)


def test_numerals_that_are_not_one_number_give_their_digits():
    assert [q.value for q in chinese_quantities("十四五期间推动一体化")] == [10, 4, 5, 1]


@pytest.mark.parametrize("text, values", [
    ("sold 2.066 million vehicles, up 8.8%", [2_066_000, 8.8]),
    ("250 billion yuan and 4 trillion", [250e9, 4e12]),
    ("2,500 km in 2027", [2500, 2027]),
    ("the 1980s, on the 29th", [1980, 29]),
    ("V2V, 5G and L3 are names, not numbers", []),
])
def test_english_numbers_by_value(text, values):
    assert [q.value for q in english_quantities(text)] == pytest.approx(values)


def test_magnitudes_are_written_as_english_writes_them():
    assert english_magnitudes("销量206.6万辆，投资2500亿元，增长百分之五十，2023年") == \
        "销量 2.066 million 辆，投资 250 billion 元，增长50%，2023年"
    assert english_magnitudes("4万亿元，27亿元，5万辆，3千万") == " 4 trillion 元， 2.7 billion 元，50,000辆， 30 million "
    assert english_magnitudes("１２３辆和2万") == "１２３辆和20,000"  # a plain number stays as written


@pytest.mark.parametrize("translation", [
    "Changan sold 2.066 million vehicles in 2023, up 8.8%.",
    "Changan sold 2,066,000 vehicles in 2023, up 8.8 percent.",
    "Changan sold about 2.07 million vehicles in 2023.",  # a rounding that keeps two digits
])
def test_faithful_numbers_are_supported(translation):
    assert unsupported(translation, "长安汽车2023年销量206.6万辆，同比增长8.8%。") == []


@pytest.mark.parametrize("translation, wrong", [
    ("Changan sold 206.6 million vehicles.", ["206.6 million"]),  # the classic 万 misreading
    ("Changan sold 2 million vehicles.", ["2 million"]),  # one significant digit is not a rounding
    ("In the 1980s Changan sold 2.066 million vehicles.", ["1980"]),  # a year the source never gives
    ("a transaction of 115 billion yuan", ["115 billion"]),
])
def test_wrong_numbers_are_caught(translation, wrong):
    source = "长安汽车2023年销量206.6万辆，同比增长8.8%。115億元的交易對價"
    assert [q.text for q in unsupported(translation, source)] == wrong
