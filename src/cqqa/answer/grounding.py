"""Citations for a generated answer, attached and checked by the project, never taken from the model.

Each sentence of the model's text (its own [n] markers removed) is embedded and compared with
every sentence of the passages the model was given (the index's sentence vectors, the same
model as retrieval): the best passage sentence, if similar enough, is what the answer sentence
says, and its passage is cited. Then the sentence's numbers and names are checked against that
passage (checks.py). A sentence no passage supports, or one that fails a check, is left out of
the answer, and the answer says how many were left out and why.

SUPPORT_MIN, calibrated by `eval/calibrate_support.py` (2026-11-25) on 61 checked translations
by the bundled reader, each scored against the quote it translates (faithful) and against the
closest other quote (impostor, same articles): faithful median 0.67, p10 0.60; impostor median
0.46, p90 0.57, max 0.61; the same in bfloat16, float32 and int8 (at 0.6, faithful left out
7/8/10 of 61, impostors kept 1/1/1). The threshold errs toward leaving a true sentence out
(shown as left out, with its text) over citing a passage that does not say it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cqqa.answer.checks import CheckResult, check
from cqqa.textnorm import CHINESE_SENTENCE_ENDS, has_han

SUPPORT_MIN = 0.6
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese"}
_MARKERS = re.compile(r"\s*\[\s*\d+(?:\s*[,，、]\s*\d+)*\s*\]")
# A model's sentence ends: an English one before the next capital, or a Chinese one (。！？).
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])|(?<=[{CHINESE_SENTENCE_ENDS}])")


@dataclass
class Grounded:
    text: str  # the answer sentence, without the model's markers
    n: int | None  # the passage that supports it, None when none does
    score: float  # its similarity to the best passage sentence
    source: str  # that passage sentence
    checks: CheckResult | None = None

    @property
    def kept(self) -> bool:
        return self.n is not None and (self.checks is None or self.checks.passed)


def split_sentences(text: str) -> list[str]:
    plain = _MARKERS.sub("", text).strip()
    return [s.strip() for s in _SENTENCE_END.split(plain) if s and s.strip()]


def ground(text: str, passages: list, index, embedder, names: dict[str, list[str]]) -> list[Grounded]:
    """`passages`: the numbered Citations the model was given."""
    sentences = split_sentences(text)
    if not sentences:
        return []
    rows, owners = [], []
    for c in passages:
        for r in index.chunk_sentences(index.row_of(c.chunk_id)):
            rows.append(r)
            owners.append(c)
    if not rows:
        return [Grounded(s, None, 0.0, "") for s in sentences]
    scores = embedder.encode_queries(sentences) @ index.sentences.vectors[np.array(rows)].T
    grounded = []
    for sentence, row_scores in zip(sentences, scores):
        best = int(np.argmax(row_scores))
        score, passage = float(row_scores[best]), owners[best]
        source = index.sentences.texts[rows[best]]
        if score < SUPPORT_MIN:
            grounded.append(Grounded(sentence, None, score, source))
            continue
        result = check(sentence, passage.text, names, {}, english=not has_han(sentence))
        grounded.append(Grounded(sentence, passage.n, score, source, result))
    return grounded


def answer_messages(question: str, lang: str, passages: list) -> list[dict]:
    """The prompt: numbered passages, the question, and the rules (answer language, [n] citations)."""
    numbered = "\n\n".join(f"[{c.n}] {c.title}\n{c.text}" for c in passages)
    language = LANGUAGE_NAMES.get(lang, "the language of the question")
    system = (
        "You answer questions about Chinese news articles using only the numbered passages given. "
        f"Answer in {language}, in a few sentences. After every claim put the number of the passage "
        "it comes from in square brackets, like [1] or [2]. Do not use any other knowledge. If the "
        "passages do not contain the answer, say so."
    )
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"}]
