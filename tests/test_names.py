import pytest
from cqqa.index.names import NameBridge, find_people
from cqqa.ingest.sources import load_documents

from helpers import DOCS_SRC

pytestmark = pytest.mark.unit


def test_people_are_found_in_the_corpus_and_bridged_by_pinyin():
    texts = [d.text for d in load_documents(DOCS_SRC)]
    people = find_people(texts)
    assert {"印奇", "朱华荣", "李书福", "张兴海", "殷亮", "陈山枝"} <= people
    bridge = NameBridge.build(texts)
    assert bridge.expand("what did Yin Qi say about AI 2.0") == ["印奇"]
    assert bridge.expand("zhu huarong and LI SHUFU") == ["朱华荣", "李书福"]
    assert bridge.expand("Zhang Xinghai on Seres and Huawei") == ["张兴海", "赛力斯", "华为"]


def test_curated_aliases_only_keep_forms_present_in_the_corpus():
    bridge = NameBridge.build(["赛力斯与华为合作", "中信银行重庆分行"])
    assert bridge.expand("Seres, Huawei and CITIC Bank") == ["赛力斯", "华为", "中信银行"]
    assert bridge.expand("Bosch") == []  # 博世 is not in this corpus


def test_whole_words_only_and_longest_match_first():
    bridge = NameBridge({"citic": ["中信"], "citic bank": ["中信银行"], "yin qi": ["印奇"]})
    assert bridge.expand("CITIC Bank") == ["中信银行"]
    assert bridge.expand("yin qiang") == []
    assert bridge.rewrite("what did Yin Qi say").split() == ["what", "did", "印奇", "say"]


def test_subjects_are_people_and_organisations_romanised_or_chinese():
    bridge = NameBridge({"yin qi": ["印奇"], "li shufu": ["李书福"], "citic bank": ["中信银行"],
                         "super-charging": ["超充"]}, subjects=["印奇", "李书福", "中信银行"])
    assert bridge.subjects_in("李書福對AI有什麼看法？") == ["李书福"]
    assert bridge.subjects_in("Yin Qi and 中信银行") == ["印奇", "中信银行"]
    assert bridge.subjects_in("What are the super-charging plans? 超充站") == []  # a topic, not a subject


def test_built_bridge_knows_people_and_companies_as_subjects():
    bridge = NameBridge.build([d.text for d in load_documents(DOCS_SRC)])
    assert {"印奇", "李书福", "赛力斯", "长安"} <= set(bridge.subjects)
    assert "超充" not in bridge.subjects and "重庆" not in bridge.subjects
