import pytest
"""Which sentences the extractive answer quotes (quotes.py): pure logic on small fixtures. How
often the quotes hold the evidence is measured by `cqqa eval --answers` (docs/evaluation.md)."""

from cqqa.answer.quotes import FRAMING_MAX_CHARS, companions, score_sentences, select_quotes, whole_sentences

pytestmark = pytest.mark.unit

LONG = "，这句话足够长，不是一句引出下文的开场白，而是有内容的完整陈述。"
assert len(LONG) > FRAMING_MAX_CHARS


def test_select_quotes_keeps_sentences_close_to_the_best_in_reading_order():
    first, second, third, other = (f"{s}{LONG}" for s in ("第一句话很相关", "第二句话无关紧要", "第三句也很相关", "另一段的相关句子"))
    passages = [
        [(first, 0.60), (second, 0.30), (third, 0.58)],
        [(first, 0.60), (other, 0.57)],  # the shared sentence is quoted once
    ]
    assert select_quotes(passages) == [(0, first), (0, third), (1, other)]


def test_select_quotes_skips_fragments_and_caps_each_passage():
    a, b, c = (f"{s}{LONG}" for s in "甲乙丙")
    passages = [[("他说。", 0.9), (a, 0.8), (b, 0.8), (c, 0.8)]]
    assert [text for _, text in select_quotes(passages)] == [a, b]


def test_a_framing_sentence_brings_the_sentence_after_it():
    framing, content, other = "李书福描绘的，则是一个更加立体的出行格局。", f"他认为汽车可能和低空飞行无缝衔接{LONG}", f"别的话题{LONG}"
    assert select_quotes([[(framing, 0.7), (content, 0.5), (other, 0.4)]]) == [(0, framing), (0, content)]
    question = "是构建一个自主可控的生态闭环，还是融入跨界合作的开放格局？"  # long, but a question: framing
    assert select_quotes([[(question, 0.7), (content, 0.5)]]) == [(0, question), (0, content)]
    assert select_quotes([[(content, 0.7), (other, 0.3)]]) == [(0, content)], "a full sentence stands alone"


def test_a_quotation_and_its_attribution_come_together():
    quotation = "“有情感、更智慧、更安全、可信赖的移动智能体和生活伴侣。”"
    framing = "张兴海对于未来汽车的定位言简意赅。"
    other = f"值得一提的是，嘉宾们都认为安全始终是首要前提{LONG}"
    # the framing sentence scores best; what it frames is the quotation before it, not the next sentence
    assert select_quotes([[(quotation, 0.2), (framing, 0.7), (other, 0.4)]]) == [(0, quotation), (0, framing)]
    speaker = "朱华荣说，也是在那一年，长安汽车提出了数字化转型。"
    said = "“我们当时就认为，数字汽车必然是行业的未来。”"
    assert companions([said, speaker], 1) == [0], "a sentence opening with its speaker needs the quotation before"
    assert companions([speaker, said], 0) == [1], "a quotation after a sentence is what was said"
    assert companions([said, "公司董事长花伟程介绍。"], 0) == [1], "a quotation needs its short attribution"
    assert companions([f"数据显示{LONG}", f"第二件事{LONG}"], 0) == [], "an ordinary neighbour stays out"


def test_a_quotation_does_not_bring_the_next_speakers_quotation():
    """In the article Yin Qi's words are followed by Zhang Xinghai's, attributed after them."""
    yin = "印奇认为，未来的汽车，应该是一个超级空间和全能伙伴。"
    his = "“年轻人每天待在汽车里的时间，很可能仅少于在家里和公司的时间。”"
    zhang = "“有情感、更智慧、更安全、可信赖的移动智能体和生活伴侣。”"
    attribution = "张兴海对于未来汽车的定位言简意赅。"
    quoted = [text for _, text in select_quotes([[(yin, 0.6), (his, 0.3), (zhang, 0.3), (attribution, 0.2)]])]
    assert quoted == [yin, his]


def test_a_companion_brings_its_own_up_to_two_hops():
    lead = f"北斗智联科技有限公司自2019年将总部落户重庆{LONG}"
    quotation = "“我们坚持以科技创新为核心驱动力，构建核心技术优势。”"
    attribution = "公司董事长花伟程介绍。"
    later = f"另一个话题的开头{LONG}"
    quoted = [text for _, text in select_quotes([[(lead, 0.6), (quotation, 0.3), (attribution, 0.3), (later, 0.1)]])]
    assert quoted == [lead, quotation, attribution]


def test_a_sentence_continued_by_the_next_brings_it():
    lead, continued = f"重庆提出33618现代制造业集群体系{LONG}", "其中，智能网联新能源汽车为三大主导产业之一。"
    assert companions([lead, continued], 0) == [1]
    assert select_quotes([[(lead, 0.6), (continued, 0.3)]]) == [(0, lead), (0, continued)]


def test_clauses_run_on_to_the_end_of_their_sentence():
    units = [("今年前三季度，长安汽车累计销量为206.6万辆；", 0.6), ("其中自主品牌销量175.0万辆；", 0.3),
             ("新能源汽车销量72.4万辆。", 0.5), ("另起一句。", 0.1)]
    joined = whole_sentences(units)
    assert joined == [("今年前三季度，长安汽车累计销量为206.6万辆；其中自主品牌销量175.0万辆；新能源汽车销量72.4万辆。", 0.6),
                      ("另起一句。", 0.1)]
    assert select_quotes([units]) == [(0, joined[0][0])]


def test_a_sentence_writing_the_questions_year_or_number_scores_higher():
    year, other = "直到2024年，这一数字跃升至95.32万辆。", "今年1—8月，重庆市汽车产量165.9万辆。"
    scores = dict(score_sentences("How much did NEV output grow in 2024?", [(year, 0.32), (other, 0.50)]))
    assert scores[year] > scores[other]
    assert dict(score_sentences("重庆２０２４年的产量？", [(year, 0.3)]))[year] > 0.3, "full-width digits too"
    assert dict(score_sentences("What happened in 2023?", [(year, 0.3)]))[year] == 0.3, "another year: no bonus"
    assert dict(score_sentences("What did he say?", [(year, 0.3)]))[year] == 0.3, "no identifier, no bonus"


def test_a_quantity_or_date_scores_higher_when_the_question_asks_for_one():
    count, words = "组建两百多人的高水平研发团队。", "下一步，国科础石将在做好基础操作系统等核心业务。"
    asked = dict(score_sentences("国科础石的研发团队有多少人？", [(count, 0.40), (words, 0.44)]))
    assert asked[count] > asked[words]
    when = dict(score_sentences("When did it move to Chongqing?", [("自2019年将总部落户重庆。", 0.4), (words, 0.4)]))
    assert when["自2019年将总部落户重庆。"] > when[words]
    plain = dict(score_sentences("国科础石做什么？", [(count, 0.40), (words, 0.44)]))
    assert plain == {count: 0.40, words: 0.44}


def test_the_sentence_giving_the_asked_persons_title_is_quoted():
    said, guests = f"印奇表示，AI技术已经完成了跃迁{LONG}", f"当天，千里科技董事长印奇齐聚重庆{LONG}"
    sentences = [(said, 0.50), (guests, 0.30)]
    assert select_quotes([score_sentences("Who is Yin Qi?", sentences)]) == [(0, said)]
    assert (0, guests) in select_quotes([score_sentences("Who is Yin Qi?", sentences, roles=[guests])])


def test_a_sentence_opening_with_a_pronoun_brings_the_one_naming_whom_it_means():
    """xquad-dev, "Who is the oldest quarterback to play in a Super Bowl?": the best sentence says
    "he"; the name is in the sentence before (both from the article)."""
    named = "培顿·曼宁成为史上首位带领两支不同球队多次进入超级碗的四分卫。"
    he = "他也以 39 岁高龄参加超级碗而成为史上年龄最大的四分卫。"
    assert companions([named, he], 1) == [0]
    assert select_quotes([[(named, 0.40), (he, 0.62)]]) == [(0, named), (0, he)]
    for opening in ("该公司", "这一街区", "他们", "此前一天", "其销量"):
        assert companions([named, f"{opening}{LONG}"], 1) == [0], opening
    for opening in ("此外", "其他公司", "其实", "长安汽车"):  # a continuation or no pronoun
        assert 0 not in companions([named, f"{opening}{LONG}"], 1), opening
