import pytest
"""absent_terms.py: which nouns of a question the corpus never uses (real jieba, tiny corpora)."""

from cqqa.retrieve.absent_terms import Vocabulary

pytestmark = pytest.mark.unit

CORPUS = ["赛力斯今年前三季度销量增长，新能源汽车出口到欧洲。", "长安汽车董事长朱华荣表示，要坚持创新。"]


def test_a_noun_the_articles_never_use_is_absent():
    assert Vocabulary(CORPUS).absent_terms("赛力斯去年的净利润有多少？") == ["净利润"]


def test_nouns_the_articles_use_are_not_absent():
    assert Vocabulary(CORPUS).absent_terms("赛力斯的销量有多少？") == []


def test_traditional_questions_are_folded_before_matching():
    assert Vocabulary(CORPUS).absent_terms("賽力斯去年的淨利潤有多少？") == ["淨利潤"]  # as the question writes it
    assert Vocabulary(["賽力斯的淨利潤很高。"]).absent_terms("赛力斯的净利润有多少？") == []


def test_nouns_that_only_ask_are_ignored():
    assert Vocabulary(CORPUS).absent_terms("赛力斯什么时候开始出口？") == []


def test_a_compound_is_present_when_its_parts_are():
    assert Vocabulary(CORPUS).absent_terms("汽车出口到了欧洲吗？") == []


def test_each_absent_noun_is_listed_once_in_question_order():
    assert Vocabulary(CORPUS).absent_terms("员工的宿舍和员工的食堂？") == ["员工", "宿舍", "食堂"]


def test_english_questions_are_tested_for_proper_names_only():
    assert Vocabulary(CORPUS).absent_terms("What was Seres's net profit?") == []  # "profit" is no name


def test_an_english_proper_name_the_articles_never_write_is_absent():
    vocabulary = Vocabulary(CORPUS, known_names={"seres", "zhu huarong"})
    assert vocabulary.absent_terms("What are Tesla's plans with Seres in Wuhan?") == ["Tesla", "Wuhan"]
    assert vocabulary.absent_terms("What did Zhu Huarong say in September?") == []  # bridged; a month


def test_an_english_name_written_in_chinese_in_the_articles_is_present():
    assert Vocabulary(CORPUS + ["特斯拉在上海建厂。"]).absent_terms("What are Tesla's plans?") == []
    # an ordinary word that also starts a proper noun's gloss ("Systems") finds its ordinary forms
    assert Vocabulary(CORPUS + ["智能驾驶系统"]).absent_terms("Which Systems does Seres use?") == []


def test_a_year_the_articles_never_write_is_absent_in_any_language():
    corpus = ["2024年，重庆汽车产量增长。", "到２０３０年建成超充站。"]  # full-width digits count
    assert Vocabulary(corpus).absent_terms("How many stations did Chongqing have in 2023?") == ["2023"]
    assert Vocabulary(corpus).absent_terms("2023年重庆汽车产量是多少？") == ["2023"]
    assert Vocabulary(corpus).absent_terms("What is planned for 2030, after 2024?") == []


def test_numbers_that_only_look_like_years_are_not_years():
    corpus = ["2024年，重庆汽车产量增长。"]
    assert Vocabulary(corpus).absent_terms("Did sales reach 12023 or 2023.5 or 1999% of the target?") == []


def test_unwritten_share_counts_the_question_terms_its_article_never_writes():
    """A near miss from xquad-dev: the article on oxygen is still there, the paragraph on James
    Dewar's liquid oxygen is not; its terms 化学家, 液氧 … are written nowhere in it."""
    from cqqa.index.lexical import tokenize
    from cqqa.retrieve.absent_terms import unwritten_share
    from cqqa.textnorm import fold

    article = fold("氧气的名称是由安托万·拉瓦锡于1777年命名的，他的氧气实验帮助推翻了当时流行的燃烧和腐蚀燃素理论。"
                   "氧是地壳中含量最多的元素。").lower()
    near_miss = unwritten_share(tokenize("哪位化学家成功制造出足够的液氧用于研究?"), article)
    answered = unwritten_share(tokenize("氧气是谁命名的？"), article)
    assert near_miss is not None and near_miss >= 0.8
    assert answered == 0.0
    assert unwritten_share(tokenize("哪一年？"), article) is None  # only words that form the question
