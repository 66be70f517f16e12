import pytest
from cqqa.retrieve.followup import standalone_query

pytestmark = pytest.mark.unit

NAMES = {"li shufu": "李书福", "李书福": "李书福", "seres": "赛力斯", "印奇": "印奇"}


def find(text):
    low = text.lower()
    return [form for key, form in NAMES.items() if key in low and form]


def test_a_question_without_history_is_unchanged():
    assert standalone_query("  what did Yin Qi say?  ", [], find) == "what did Yin Qi say?"


def test_the_subject_of_the_history_is_carried():
    query = standalone_query("And what did he say about safety?", ["What did Li Shufu say about AI?"], find)
    assert query == "And what did he say about safety? 李书福"


def test_names_already_in_the_question_are_not_repeated():
    query = standalone_query("What did Li Shufu say about Seres?", ["Li Shufu on AI"], find)
    assert query == "What did Li Shufu say about Seres?"


def test_only_the_last_turns_count():
    history = ["印奇说了什么？", "What about Seres?", "And Li Shufu?"]
    query = standalone_query("what else?", history, find)
    assert query.startswith("what else? ") and set(query.split()[2:]) == {"赛力斯", "李书福"}  # not 印奇


def test_an_elliptical_follow_up_carries_the_whole_last_turn():
    last = "長安汽車今年前三季度賣了多少輛車？"
    assert standalone_query("新能源汽車呢？", ["印奇说了什么？", last], find) == f"新能源汽車呢？ {last}"
    assert standalone_query("那超充站的計劃呢？", [last], find) == f"那超充站的計劃呢？ {last}"
    query = standalone_query("What about its target for 2030?", ["How many did Seres sell?"], find)
    assert query == "What about its target for 2030? How many did Seres sell?"
    # a full question that happens to end in 呢 is not elliptical: only names are carried
    assert standalone_query("他认为未来的汽车应该是什么样子的呢？", ["李书福说了什么？"], find) == \
        "他认为未来的汽车应该是什么样子的呢？ 李书福"
