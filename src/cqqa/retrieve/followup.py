"""Make a follow-up question self-contained before retrieval.

"And what did he say about safety?" means nothing alone; after "What did Li
Shufu say about AI?" it means "What did Li Shufu say about safety?". Without a
language model we carry the conversation's *subjects* into the query: the names
(people, companies, places) mentioned in the earlier user turns, in their
Chinese form, are appended to the question. Measured on the evaluation set's
conversations (`cqqa eval`), this beats prepending whole earlier turns, which
drags retrieval back to the previous answer (Recall@1 0.88 vs 0.56).

The exception is an elliptical follow-up that only names a new topic ("新能源汽車呢？" after
"長安汽車今年前三季度賣了多少輛車？", "What about its target for 2030?"): the rest of its question
is the previous one's, so the whole last turn is carried (`cqqa eval --answers`: conversations
quote the evidence 0.840 -> 0.880, Recall@1 unchanged at 0.880).

This one function is what the chat, `cqqa ask` and `cqqa eval` all use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

MAX_HISTORY_TURNS = 2  # the subject of a follow-up is in the last turns, not the first
# "新能源汽車呢？", "那超充站的計劃呢？", "What about its target for 2030?": only the new topic is
# said; the rest of the question is the previous one's.
ELLIPTICAL = re.compile(r"^\s*(?:那|那么|那麼)?[^，,。？?]{1,15}呢\s*[？?]?\s*$|^\s*(?:and\s+|so\s+)?(?:what|how)\s+about\b", re.I)


def standalone_query(question: str, history: Sequence[str] = (),
                     find_names: Callable[[str], list[str]] = lambda text: []) -> str:
    question = question.strip()
    turns = [turn.strip() for turn in history if turn and turn.strip()][-MAX_HISTORY_TURNS:]
    if not turns:
        return question
    if ELLIPTICAL.search(question):
        return f"{question} {turns[-1]}"
    present = set(find_names(question))
    carried = [name for name in find_names(" ".join(turns)) if name not in present]
    return f"{question} {' '.join(carried)}" if carried else question


def rewrite_messages(question: str, history: list[str]) -> list[dict]:
    """The prompt that makes a follow-up self-contained."""
    turns = "\n".join(f"- {turn}" for turn in history)
    return [
        {"role": "system", "content": "Rewrite the user's last question so that it can be understood without "
                                      "the conversation: replace pronouns and vague references with the names "
                                      "they stand for. Keep its language. Reply with the question only."},
        {"role": "user", "content": f"Earlier questions:\n{turns}\n\nLast question: {question}"},
    ]


def rewritten_query(reply: str) -> str:
    """The question a model's rewrite reply gives ("" when none): its first line, without quotes."""
    text = reply.strip().strip('"“”')
    return text.splitlines()[0] if text else ""
