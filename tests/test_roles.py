"""Who someone is (roles.py): which questions ask it, which sentences give a person's title.
Pure logic; how often the answers then quote the title is measured by `cqqa eval --answers`
(items s129-s138)."""

import pytest

from cqqa.index.names import NameBridge
from cqqa.retrieve.roles import asked_titles, asks_who_is, holder_sentences, overview_subjects, role_rows, role_sentences

pytestmark = pytest.mark.unit

GUESTS = ("当天，中国长安汽车集团董事长朱华荣、吉利控股集团董事长李书福、赛力斯集团董事长（创始人）张兴海、"
          "千里科技董事长印奇齐聚重庆。")


@pytest.mark.parametrize("question", [
    "Who is Yin Qi?", "who's Zhang Xinghai", "Who are Yin Qi and Li Shufu?", "Who was Li Shufu?", "What is Yu Xinhao's job?",
    "What does Hua Weicheng do?", "What is the position of Chen Shanzhi?", "印奇是谁？", "張興海是誰？", "谁是花伟程？", "陈山枝是什么职务？", "肖浩栋是做什么的？",
])
def test_questions_asking_who_someone_is(question):
    assert asks_who_is(question)


@pytest.mark.parametrize("question", [
    "What did Yin Qi say about AI 2.0?", "What did Zhang Xinghai do in 2017?",
    "What does Zhu Huarong think cars will do for their owners?", "What titles did Changan win?",
    "印奇说了什么？", "长安汽车卖了多少辆车？",
])
def test_questions_not_asking_who_someone_is(question):
    assert not asks_who_is(question)


def test_a_title_right_before_the_name_gives_the_role():
    sentences = ["印奇表示，AI技术已经完成了跃迁。", GUESTS, "“……。”公司董事长花伟程介绍。"]
    assert role_sentences(["印奇"], sentences) == [1]
    assert role_sentences(["张兴海"], sentences) == [1]  # 董事长（创始人）张兴海: a note between
    assert role_sentences(["花伟程"], sentences) == [2]
    assert role_sentences(["周宁"], sentences) == []
    assert role_sentences([], sentences) == []


def test_a_traditional_sentence_gives_the_role_of_a_simplified_name():
    assert role_sentences(["张兴海"], ["圖片來源:問界 賽力斯集團董事長張興海表示,這標志著合作升級。"]) == [0]


def test_a_name_without_a_title_before_it_is_not_a_role():
    assert role_sentences(["张兴海"], ["对于这一判断，张兴海非常认同。", "张兴海是董事长的朋友。"]) == []


def test_the_titles_a_question_asks_for():
    assert asked_titles("Who is the chairman of Changan?") == ["董事长"]
    assert asked_titles("Who is the vice president of the company?") == ["副总裁"]  # not also 总裁
    assert asked_titles("Who is the CEO of Seres?") == ["首席执行官|CEO"]
    assert asked_titles("長安汽車的董事長是誰？") == ["董事长"]
    assert asked_titles("Who is Yin Qi?") == []


def test_an_organisation_followed_by_the_title_asked_gives_its_holder():
    sentences = [GUESTS, "“……。”博世氢动力系统（重庆）有限公司总经理肖浩栋说。", "长安汽车销量增长。"]
    assert holder_sentences("长安", ["董事长"], sentences) == [0]
    assert holder_sentences("赛力斯", ["创始人"], sentences) == [0]  # 赛力斯集团董事长（创始人）
    assert holder_sentences("博世", ["总经理"], sentences) == [1]
    assert holder_sentences("长安", ["总经理"], sentences) == []
    assert holder_sentences("吉利", ["创始人"], sentences) == []  # Seres's founder, after 、: not Geely's
    assert holder_sentences("长安", [], sentences) == []
    assert holder_sentences("长安", ["董事长"], ["長安汽車董事長朱華榮表示,新長安將積極服務成渝地區。"]) == [0]


def test_role_rows_look_up_a_person_or_an_organisations_title_holder_once_each():
    sentences = ["印奇表示，AI技术已经完成了跃迁。", GUESTS]
    assert role_rows("Who are Yin Qi and Li Shufu?", ["印奇", "李书福"], sentences) == [1]  # one sentence, once
    assert role_rows("Who is the chairman of Changan?", ["长安"], sentences) == [1]
    assert role_rows("Who is the CEO of Changan?", ["长安"], sentences) == []  # no title asked is given
    assert role_rows("What did Yin Qi say?", ["印奇"], sentences) == []  # not a who-is question


BRIDGE = NameBridge({"seres": ["赛力斯"], "avatr": ["阿维塔"], "yin qi": ["印奇"], "chongqing": ["重庆"]},
                    subjects=["赛力斯", "阿维塔", "印奇"])


@pytest.mark.parametrize("question,subjects", [
    ("What is Avatr?", ["阿维塔"]), ("Tell me about Seres", ["赛力斯"]), ("what's the Seres group?", ["赛力斯"]),
    ("Can you tell me about Seres?", ["赛力斯"]), ("介绍一下赛力斯", ["赛力斯"]), ("阿維塔是什麼公司？", ["阿维塔"]),
    ("賽力斯是做什么的？", ["赛力斯"]),
])
def test_a_question_asking_only_what_a_subject_is(question, subjects):
    assert overview_subjects(question, BRIDGE) == subjects


@pytest.mark.parametrize("question", [
    "What is Seres's net profit?", "What is Avatr planning with Huawei?", "Tell me about Seres and hydrogen",
    "What is Chongqing?",  # a place, not a subject
    "What is Tesla?",  # not in the bridge: the articles never write it
    "赛力斯的销量是多少？", "Who is Yin Qi?",  # who-is has its own lookup
])
def test_a_question_asking_more_than_what_a_subject_is(question):
    assert overview_subjects(question, BRIDGE) == []
