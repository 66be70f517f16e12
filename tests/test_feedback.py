import pytest
"""Votes on answers (feedback.py) without a server: one row per answer, replaced by a later vote,
other lines kept byte for byte."""

import json

from cqqa.answer.types import Answer
from cqqa.serve import feedback

pytestmark = pytest.mark.unit


def answer(question="重庆的超充站建设目标"):
    return Answer(question=question, answer="「…」[1]", answerable=True, citations=[], query=question,
                  index_version="v1")


def rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_vote_is_one_row_with_what_was_answered(tmp_path):
    path = tmp_path / "feedback" / "feedback.jsonl"
    feedback.record(path, answer(), True, ["前一个问题"], "a1")
    [row] = rows(path)
    assert row["answer_id"] == "a1" and row["liked"] is True and row["history"] == ["前一个问题"]
    assert row["question"] == "重庆的超充站建设目标" and row["index_version"] == "v1"


def test_voting_again_replaces_the_row_and_keeps_the_others_byte_for_byte(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"answer_id": "old", "note": "kept as it was"}\nnot json, kept too', encoding="utf-8")
    for liked in (True, False, True, False):
        feedback.record(path, answer(), liked, None, "a1")
    feedback.record(path, answer("另一个问题"), True, None, "a2")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ['{"answer_id": "old", "note": "kept as it was"}', "not json, kept too"]
    votes = [json.loads(line) for line in lines[2:]]
    assert [(v["answer_id"], v["liked"]) for v in votes] == [("a1", False), ("a2", True)]
