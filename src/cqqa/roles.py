"""Who someone is: the sentences that give a person's role ("千里科技董事长印奇").

"Who is Yin Qi?" is answered by the one sentence that names him with his title, and that
sentence is a long list of guests, not similar to the question: similarity alone retrieved
what he said instead, and refused the question when what he said scored low (`cqqa eval
--answers`, items s129-s138). So a question that asks who a person is, or what their job is,
looks the person up in the sentence table: a title right before the name (an organisation may
come before the title, a note in brackets after it: "赛力斯集团董事长（创始人）张兴海").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cqqa.textnorm import to_simplified, to_traditional

ASKS_WHO_IS = re.compile(
    r"\bwho(?:\s+is|\s+was|'s|’s)\b|\bwhat\s+does\s+.{1,40}?\s+do\s*\??\s*$|"
    r"(?:'s|’s)\s+(?:job|role|position|title)\b|\b(?:job|role|position|title)\s+of\b|"
    r"是[谁誰]|[谁誰]是|什[么麼]人|做什[么麼]的|[职職](?:务|務|位)|身份|[头頭][衔銜]", re.I)
# Simplified only: sentences are compared in Simplified (OpenCC).
TITLE = (r"(?:董事长|副?总裁|副?总经理|首席执行官|CEO|创始人|负责人|董事|主席|副?书记|副?市长|"
         r"副?(?:院|所|局|厅|部|处|科|校|行)长|主任|教授|院士|总工程师|总监|经理|秘书长)")
NOTE = r"(?:[（(][^）)]{1,12}[）)])?"  # 董事长（创始人）张兴海


def asks_who_is(question: str) -> bool:
    """Whether the question asks who someone is or what their job is."""
    return bool(ASKS_WHO_IS.search(question))


def role_sentences(people: Sequence[str], sentences: Sequence[str]) -> list[int]:
    """Rows of `sentences` that give one of `people` (Simplified forms) a title, in table order."""
    if not people:
        return []
    forms = {form for person in people for form in (person, to_traditional(person))}
    pattern = re.compile(TITLE + NOTE + "(?:" + "|".join(re.escape(p) for p in people) + ")")
    return [row for row, text in enumerate(sentences)
            if any(form in text for form in forms) and pattern.search(re.sub(r"\s+", "", to_simplified(text)))]
