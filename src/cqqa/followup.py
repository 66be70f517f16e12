"""Make a follow-up question self-contained before retrieval.

"And what did he say about safety?" means nothing alone; after "What did Li
Shufu say about AI?" it means "What did Li Shufu say about safety?". Without a
language model we carry the conversation into the query: the earlier user turns
are prepended, most recent last, so the embedding sees the subject. This one
function is what the chat, `cqqa ask` and `cqqa eval` all use.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_HISTORY_TURNS = 1


def standalone_query(question: str, history: Sequence[str] = ()) -> str:
    turns = [turn.strip() for turn in history if turn and turn.strip()][-MAX_HISTORY_TURNS:]
    return " ".join([*turns, question.strip()]) if turns else question.strip()
