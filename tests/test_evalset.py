"""The project's evaluation set is well-formed and its labels are real."""

import json
import re
from collections import Counter

import pytest

from cqqa.errors import EvalSetError
from cqqa.evaluation.evalset import load_eval_set
from cqqa.textnorm import fold, to_simplified

from helpers import DOCS_SRC, ROOT

pytestmark = pytest.mark.unit

SET = ROOT / "eval" / "cqqa-eval.jsonl"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def items():
    return load_eval_set(SET)


def test_every_line_is_json_with_a_unique_id():
    ids = [json.loads(line)["id"] for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(ids) == len(set(ids))


def test_size_and_coverage(items):
    langs = Counter(i.lang for i in items)
    kinds = Counter(i.kind for i in items)
    assert len(items) >= 150
    assert langs["en"] >= len(items) / 2 and langs["zh-Hans"] >= 20 and langs["zh-Hant"] >= 20
    assert kinds["conversation"] >= 20 and kinds["unanswerable"] >= 15
    docs = Counter(i.doc for i in items if i.answerable)
    assert set(docs) == {p.stem for p in DOCS_SRC.glob("*.txt")}
    # questions asked in one script about the article written in the other
    assert any(i.lang == "zh-Hans" and i.doc == "chongqing-ev-capital-feature" for i in items)
    assert any(i.lang == "zh-Hant" and i.doc == "chongqing-daily-ev-capital-dialogue" for i in items)


def test_every_evidence_string_occurs_in_exactly_its_own_document(items):
    sources = {p.stem: re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in DOCS_SRC.glob("*.txt")}
    folded = {doc: fold(text) for doc, text in sources.items()}
    for item in items:
        for evidence in item.evidence:
            raw = [doc for doc, text in sources.items() if re.sub(r"\s+", "", evidence) in text]
            assert raw == [item.doc], (item.id, evidence, raw)  # copied verbatim, whitespace aside
            assert [doc for doc, text in folded.items() if fold(evidence) in text] == [item.doc], item.id


def test_languages_are_as_declared(items):
    from opencc import OpenCC

    s2t = OpenCC("s2t")
    for item in items:
        texts = [item.question, *item.history]
        if item.lang == "en":
            assert not any(CJK.search(t) for t in texts), item.id
        elif item.lang == "zh-Hans":
            assert all(to_simplified(t) == t for t in texts) and any(s2t.convert(t) != t for t in texts), item.id
        else:
            assert item.lang == "zh-Hant"
            assert all(to_simplified(t) != t for t in texts), item.id


def test_kinds_are_as_declared(items):
    for item in items:
        assert bool(item.history) == (item.kind == "conversation"), item.id
        assert bool(item.evidence) == (item.kind != "unanswerable"), item.id


@pytest.mark.parametrize("line,message", [
    ("{not json", "line 2: invalid JSON"),
    ('{"id": "x", "kind": "single", "question": "q"}', "line 2: missing field 'evidence'"),
    ('{"id": "x", "kind": "weird", "question": "q", "evidence": ["e"]}', "kind 'weird'"),
    ('{"id": "a", "kind": "single", "question": "q", "evidence": ["e"]}', "id 'a' already used on line 1"),
    ('{"id": "x", "kind": "unanswerable", "question": "q", "evidence": ["e"]}', "must have empty evidence"),
    ('{"id": "x", "kind": "conversation", "question": "q", "evidence": ["e"]}', "needs its history"),
    ('{"id": "x", "kind": "single", "question": "q", "evidence": ["e"], "lang": "fr"}', "lang 'fr'"),
])
def test_malformed_sets_are_reported_with_their_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "kind": "single", "question": "q", "evidence": ["e"]}\n' + line + "\n",
                    encoding="utf-8")
    with pytest.raises(EvalSetError, match=re.escape(message)):
        load_eval_set(path)


def test_missing_and_empty_sets(tmp_path):
    with pytest.raises(EvalSetError, match="does not exist"):
        load_eval_set(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(EvalSetError, match="no questions"):
        load_eval_set(tmp_path / "empty.jsonl")
