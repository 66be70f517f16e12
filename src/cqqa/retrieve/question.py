"""A question as the user typed it, checked once, at the edge where it comes in (the CLI, /api/ask,
the chat): lone surrogate halves removed, surrounding blanks stripped, not empty, not longer
than MAX_QUERY_CHARS. What `checked` returns is a `Question`; code further down takes one as it
is, so a path checks its question once whatever it passes through (the assistant, the searcher)."""

from __future__ import annotations

from cqqa.errors import QueryError
from cqqa.textnorm import without_lone_surrogates

MAX_QUERY_CHARS = 1000


class Question(str):
    """A checked question (made by `checked` only)."""


class EmptyQuestion(QueryError):
    """Nothing was asked (the chat then does nothing)."""


def checked(text) -> Question:
    """`text` as a Question, or QueryError saying what is wrong with it."""
    if isinstance(text, Question):
        return text
    query = cleaned(text)
    if not query:
        raise EmptyQuestion("the query is empty; ask a question, e.g. cqqa search \"what did Yin Qi say about AI 2.0\"")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}: ask a shorter question")
    return Question(query)


def cleaned(text) -> str:
    """What is checked of a text: without lone surrogate halves (no codec can write them) and
    surrounding blanks; "" for anything that is not a string."""
    return without_lone_surrogates(text if isinstance(text, str) else "").strip()
