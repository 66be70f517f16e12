"""The transliteration bridge (index/transliteration.py, names.py) on real sentences of xquad-dev
(../shared/benchmarks/xquad-dev/docs/xquad_00.txt): Western names written in Chinese by sound."""

from __future__ import annotations

import pytest

from cqqa.index.names import NameBridge, names_to_sound_out
from cqqa.index.transliteration import chinese_keys, english_keys, foreign_names, keys_match
from cqqa.retrieve.absent_terms import Vocabulary

pytestmark = pytest.mark.unit

SUPER_BOWL = [
    "卡罗莱纳的第二防线有职业碗安全卫科特·科尔曼和职业碗角卫约什·诺曼，后者本赛季一共拦截了四次传球。",
    "六次格莱美奖得主及奥斯卡奖提名者女神卡卡献唱了国歌，而奥斯卡奖得主玛丽·麦特琳担任了美国手语 (ASL) 翻译。",
    "黑豹队的三名首发线卫中有两人入选了职业碗：托马斯·戴维斯和卢克·坎克利。",
    "黑豹队的防线上有经验丰富的防守端锋贾里德·艾伦，他是五次职业碗选手，曾以 136 次擒杀成为 NFL 职业生涯中的活跃领袖。",
]


def sounds(english: str, chinese: str) -> bool:
    return any(keys_match(e, c) for e in english_keys(english) for c in chinese_keys(chinese))


def test_the_corpus_foreign_names_are_found_in_joined_names_and_jieba_names():
    found = foreign_names("\n".join(SUPER_BOWL))
    assert {"约什", "诺曼", "科尔曼", "玛丽", "麦特琳", "托马斯", "戴维斯", "卢克", "坎克利", "卡卡"} <= found
    assert "职业碗角卫约什" not in found and "卡罗莱纳的第二防线有职业碗安全卫科特" not in found


def test_english_names_sound_like_their_transliterations_and_not_like_others():
    for english, chinese in [("Norman", "诺曼"), ("Gaga", "卡卡"), ("Matlin", "麦特琳"), ("Davis", "戴维斯"),
                             ("Thomas", "托马斯"), ("Luke", "卢克"), ("Marlee", "玛丽"), ("Coleman", "科尔曼")]:
        assert sounds(english, chinese), (english, chinese)
    for english, chinese in [("Norman", "戴维斯"), ("Matlin", "卡卡"), ("Thomas", "诺曼"), ("Davis", "麦特琳")]:
        assert not sounds(english, chinese), (english, chinese)


def test_a_question_is_bridged_to_the_names_the_corpus_writes():
    bridge = NameBridge.build(SUPER_BOWL)
    assert "诺曼" in bridge.expand("How many balls did Josh Norman intercept?")
    assert "卡卡" in bridge.expand("How many Grammys has Lady Gaga won?")
    assert {"玛丽", "麦特琳"} <= set(bridge.expand("What award has Marlee Matlin won?"))
    assert "诺曼" in bridge.rewrite("How many balls did Josh Norman intercept?")  # the lexical query has it


def test_ordinary_capitalised_words_are_not_sounded_out():
    assert names_to_sound_out("Who won Super Bowl XLIX?", None) == []
    assert names_to_sound_out("What was the final score of the AFC Championship Game?", None) == []
    assert names_to_sound_out("How many balls did Josh Norman intercept?", None) == ["Josh", "Norman"]


def test_the_bridge_survives_save_and_load(tmp_path):
    bridge = NameBridge.build(SUPER_BOWL)
    bridge.save(tmp_path / "names.json")
    assert "卡卡" in NameBridge.load(tmp_path / "names.json").expand("What did Lady Gaga sing?")


def test_a_name_the_corpus_writes_by_sound_is_not_an_absent_term():
    bridge = NameBridge.build(SUPER_BOWL)
    plain = Vocabulary(SUPER_BOWL, set(bridge.aliases))
    bridged = Vocabulary(SUPER_BOWL, set(bridge.aliases), bridge.sounds.lookup)
    question = "How many career sacks did Jared Allen have?"
    assert plain.absent_terms(question) == ["Allen"]  # CC-CEDICT's Allen is not the 艾伦 written here
    assert bridged.absent_terms(question) == []
    assert bridged.absent_terms("What did Tom Brady say?") != []  # no such name here, by any spelling
