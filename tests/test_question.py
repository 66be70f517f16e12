"""A question is checked once, at the edge (retrieve/question.py)."""

from __future__ import annotations

import pytest

from cqqa.errors import QueryError
from cqqa.retrieve.question import MAX_QUERY_CHARS, EmptyQuestion, Question, checked, cleaned

pytestmark = pytest.mark.unit


def test_a_question_is_cleaned_once_and_then_taken_as_it_is():
    question = checked("  印奇怎么看AI的2.0时代？\ud800 \n")
    assert question == "印奇怎么看AI的2.0时代？" and isinstance(question, Question)
    assert checked(question) is question  # further down the path: not checked again


@pytest.mark.parametrize("text", ["", "   \n", "\ud800", None, 42])
def test_nothing_asked_is_an_empty_question(text):
    with pytest.raises(EmptyQuestion, match="the query is empty"):
        checked(text)


def test_a_long_question_says_the_limit():
    assert checked("问" * MAX_QUERY_CHARS) == "问" * MAX_QUERY_CHARS
    with pytest.raises(QueryError, match=f"{MAX_QUERY_CHARS + 1} characters long; the limit is {MAX_QUERY_CHARS}") as caught:
        checked(" " + "问" * (MAX_QUERY_CHARS + 1) + "\ud800 ")
    assert not isinstance(caught.value, EmptyQuestion)
    assert cleaned(" 问\ud800 ") == "问"
