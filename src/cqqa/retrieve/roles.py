"""Who someone is, what something is: questions about a named subject as a whole.

**Who is X.** The sentences that give a person's role ("千里科技董事长印奇").

"Who is Yin Qi?" is answered by the one sentence that names him with his title, and that
sentence is a long list of guests, not similar to the question: similarity alone retrieved
what he said instead, and refused the question when what he said scored low (`cqqa eval
--answers`, items s129-s141). So a question that asks who a person is, or what their job is,
looks the person up in the sentence table: a title right before the name (an organisation may
come before the title, a note in brackets between title and name: "赛力斯集团董事长（创始人）张兴海").
The other way round, "Who is the chairman of Changan?" / "吉利的董事长是谁？" looks for the
organisation followed, within a few characters, by the title asked ("长安汽车董事长朱华荣").

**What is X / tell me about X.** A question that names a person or organisation the articles
write and asks nothing else ("What is Avatr?", "Tell me about Seres", "介绍一下赛力斯") is
answered with what the articles say about it, however far its sentences are from so short a
question (0.15-0.35: "What is Yinwang?" was refused at 0.146; items s142-s146). `overview_subjects`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cqqa.textnorm import to_simplified, to_traditional

if TYPE_CHECKING:
    from cqqa.index.names import NameBridge

ASKS_WHO_IS = re.compile(
    r"\bwho(?:\s+is|\s+was|\s+are|'s|’s)\b|\bwhat\s+does\s+.{1,40}?\s+do\s*\??\s*$|"
    r"(?:'s|’s)\s+(?:job|role|position|title)\b|\b(?:job|role|position|title)\s+of\b|"
    r"是[谁誰]|[谁誰]是|什[么麼]人|做什[么麼]的|[职職](?:务|務|位)|身份|[头頭][衔銜]", re.I)
# Simplified only: sentences are compared in Simplified (OpenCC).
TITLE = (r"(?:董事长|副?总裁|副?总经理|首席执行官|CEO|创始人|负责人|董事|主席|副?书记|副?市长|"
         r"副?(?:院|所|局|厅|部|处|科|校|行)长|主任|教授|院士|总工程师|总监|经理|秘书长)")
NOTE = r"(?:[（(][^）)]{1,12}[）)])?"  # 董事长（创始人）张兴海
# English titles asked for, longest first ("vice president" before "president").
ENGLISH_TITLES = {
    "deputy general manager": "副总经理", "general manager": "总经理", "vice president": "副总裁",
    "chief executive": "首席执行官|CEO", "ceo": "首席执行官|CEO", "chairwoman": "董事长", "chairman": "董事长",
    "president": "总裁", "founder": "创始人", "chair": "董事长",
}
ENGLISH_TITLE = re.compile(r"\b(" + "|".join(ENGLISH_TITLES) + r")\b", re.I)
ORG_TO_TITLE = r"[^，。、；：,;:“”]{0,16}?"  # 长安汽车董事长, 博世氢动力系统（重庆）有限公司总经理


def asks_who_is(question: str) -> bool:
    """Whether the question asks who someone is or what their job is."""
    return bool(ASKS_WHO_IS.search(question))


def asked_titles(question: str) -> list[str]:
    """The titles a question asks about, as regex alternatives in Simplified Chinese."""
    found = [ENGLISH_TITLES[m.group(1).lower()] for m in ENGLISH_TITLE.finditer(question)]
    for title in re.findall(TITLE, to_simplified(question)):  # "CEO" is already in "首席执行官|CEO"
        if not any(title in asked.split("|") for asked in found):
            found.append(title)
    return list(dict.fromkeys(found))


def _matching(names: Sequence[str], pattern: re.Pattern, sentences: Sequence[str]) -> Iterator[int]:
    """Rows of `sentences` that write one of `names` (either script) and match `pattern` once
    compacted and in Simplified; lazily, so that the first costs only the scan up to it."""
    forms = {form for name in names for form in (name, to_traditional(name))}
    return (row for row, text in enumerate(sentences)
            if any(form in text for form in forms) and pattern.search(re.sub(r"\s+", "", to_simplified(text))))


def holder_sentences(organisation: str, titles: Sequence[str], sentences: Sequence[str]) -> list[int]:
    """Rows of `sentences` naming `organisation` (Simplified) followed closely by one of `titles`."""
    if not titles:
        return []
    return list(_matching([organisation], _holder_pattern(organisation, titles), sentences))


def _holder_pattern(organisation: str, titles: Sequence[str]) -> re.Pattern:
    return re.compile(re.escape(organisation) + ORG_TO_TITLE + "(?:" + "|".join(titles) + ")")


def role_sentences(people: Sequence[str], sentences: Sequence[str]) -> list[int]:
    """Rows of `sentences` that give one of `people` (Simplified forms) a title, in table order."""
    if not people:
        return []
    return list(_matching(people, _role_pattern(people), sentences))


def _role_pattern(people: Sequence[str]) -> re.Pattern:
    return re.compile(TITLE + NOTE + "(?:" + "|".join(re.escape(p) for p in people) + ")")


def role_rows(question: str, subjects: Sequence[str], sentences: Sequence[str]) -> list[int]:
    """For a question asking who someone is: the first sentence (row) giving each subject named
    (`subjects`: its people and organisations, Simplified) a title; when it asks for a title
    ("the chairman of Changan"), the first naming each organisation with that title. The scan
    stops at each subject's first match: at 500,000 sentences (about 100,000 chunks) a subject
    with no title anywhere costs about 0.25 s."""
    if not asks_who_is(question):
        return []
    titles = asked_titles(question)
    rows: list[int] = []
    for subject in subjects:
        pattern = _holder_pattern(subject, titles) if titles else _role_pattern([subject])
        found = next(_matching([subject], pattern, sentences), None)
        if found is not None and found not in rows:
            rows.append(found)
    return rows


OVERVIEW_ENGLISH = re.compile(
    r"^\s*(?:(?:can you |could you |please )*tell me (?:more )?about|what (?:is|are|was|were)|what's|describe|"
    r"introduce)\s+(?P<rest>.+?)\s*[?？.!！]*\s*$", re.I)
OVERVIEW_CHINESE = re.compile(
    r"^\s*(?:请|請)?(?:介绍一下|介紹一下|介绍|介紹|说说|說說|讲讲|講講|谈谈|談談)(?P<rest>.+?)[?？。!！]*\s*$|"
    r"^\s*(?P<subject>.+?)(?:是什么公司|是什麼公司|是哪家公司|是什么|是什麼|是做什么的|是做什麼的)[?？。!！]*\s*$")
# Words that may stand beside the name without asking anything more ("the Seres group", "这家公司").
FILLER = re.compile(r"\b(?:the|a|an|company|companies|group|brand|corporation|corp|co|ltd|inc|automobile|auto|"
                    r"motors?|technology|tech)\b|['’]s\b|这家|這家|公司|集团|集團|企业|企業|品牌|汽车|汽車|科技|\W",
                    re.I)


def overview_subjects(question: str, names: "NameBridge") -> list[str]:
    """The people or organisations (Simplified) a question asks about as a whole, when it asks
    nothing else: "What is Avatr?" -> [阿维塔]; "What is Avatr's revenue?" -> []."""
    english, chinese = OVERVIEW_ENGLISH.match(question), OVERVIEW_CHINESE.match(question)
    match = english or chinese
    if not match:
        return []
    rest = match.group("rest") or match.group("subject")
    subjects = names.subjects_in(rest)
    if not subjects:
        return []
    left = to_simplified(names.rewrite(rest))
    for form in sorted(subjects, key=len, reverse=True):
        left = left.replace(form, " ")
    return subjects if not FILLER.sub("", left) else []
