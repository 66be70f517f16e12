"""Evaluation sets: JSONL, one question per line.

    {"id": "s001", "kind": "single", "lang": "en", "question": "...", "history": [],
     "evidence": ["..."], "doc": "..."}

`kind` is single, conversation (uses history) or unanswerable (empty evidence).
`lang` (en, zh-Hans, zh-Hant) is optional; so is `facts`, English facts a translated answer
should state (a number, matched by value: "2.066 million"; or a name or term, matched as
text: "Seres"), scored by `cqqa eval --answers --reader`. A passage is relevant when it contains
one of the evidence strings after folding (see textnorm.fold), so re-chunking
never invalidates the labels. Lines starting with # are comments (`cqqa eval --template` writes a
commented starter file). A malformed file is reported with its line number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cqqa.errors import EvalSetError

KINDS = ("single", "conversation", "unanswerable")
LANGS = ("en", "zh-Hans", "zh-Hant")


@dataclass(frozen=True)
class EvalItem:
    id: str
    kind: str
    question: str
    evidence: tuple[str, ...]
    history: tuple[str, ...] = ()
    lang: str = "unknown"
    doc: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def _check(row: dict, where: str) -> EvalItem:
    if not isinstance(row, dict):
        raise EvalSetError(f"{where}: expected a JSON object, got {type(row).__name__}")
    for name in ("id", "kind", "question", "evidence"):
        if name not in row:
            raise EvalSetError(f"{where}: missing field {name!r}")
    if not isinstance(row["id"], str) or not row["id"]:
        raise EvalSetError(f"{where}: 'id' must be a non-empty string")
    if row["kind"] not in KINDS:
        raise EvalSetError(f"{where}: kind {row['kind']!r} is not one of {', '.join(KINDS)}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise EvalSetError(f"{where}: 'question' must be a non-empty string")
    evidence, history = row["evidence"], row.get("history", [])
    if not isinstance(evidence, list) or not all(isinstance(e, str) and e.strip() for e in evidence):
        raise EvalSetError(f"{where}: 'evidence' must be a list of non-empty strings")
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise EvalSetError(f"{where}: 'history' must be a list of strings")
    if row["kind"] == "unanswerable" and evidence:
        raise EvalSetError(f"{where}: an unanswerable question must have empty evidence")
    if row["kind"] != "unanswerable" and not evidence:
        raise EvalSetError(f"{where}: a {row['kind']} question needs at least one evidence string")
    if row["kind"] == "conversation" and not history:
        raise EvalSetError(f"{where}: a conversation question needs its history")
    facts = row.get("facts", [])
    if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
        raise EvalSetError(f"{where}: 'facts' must be a list of non-empty strings (English facts the answer should state)")
    lang = row.get("lang", "unknown")
    if lang != "unknown" and lang not in LANGS:
        raise EvalSetError(f"{where}: lang {lang!r} is not one of {', '.join(LANGS)}")
    known = {"id", "kind", "question", "evidence", "history", "lang", "doc"}
    return EvalItem(row["id"], row["kind"], row["question"].strip(), tuple(evidence), tuple(history), lang,
                    str(row.get("doc", "")), {k: v for k, v in row.items() if k not in known})


def to_row(item: EvalItem) -> dict:
    """An item as a line of an evaluation file (load_eval_set reads it back the same)."""
    row = {"id": item.id, "kind": item.kind, "question": item.question, "history": list(item.history),
           "evidence": list(item.evidence)}
    if item.lang != "unknown":
        row["lang"] = item.lang
    if item.doc:
        row["doc"] = item.doc
    return {**row, **item.extra}


def write_eval_set(items: list[EvalItem], path: Path) -> None:
    Path(path).write_text("".join(json.dumps(to_row(i), ensure_ascii=False) + "\n" for i in items), encoding="utf-8")


TEMPLATE = """# A cqqa evaluation set: one question per line, as JSON (lines starting with # are comments).
#   id        unique name of the question
#   kind      single | conversation (asked after `history`) | unanswerable (the articles do not say it)
#   lang      en | zh-Hans | zh-Hant (optional; the report's figures are given per language)
#   question  what a user asks
#   history   earlier questions of the conversation, oldest first ([] for a single question)
#   evidence  text the answer must quote, copied from the article (any passage containing one of these
#             strings answers the question; spaces, dashes, quotes and script are folded); [] when unanswerable
#   doc       the article's id (its path in the source folder without the suffix), for your reference
#   facts     (optional) English facts a translated answer should state, e.g. ["2.066 million"]
# Then: cqqa eval --set THIS_FILE [--answers] [--report report.html]
{"id": "q1", "kind": "single", "lang": "en", "question": "How many cars did the company sell in the first three quarters?", "history": [], "evidence": ["累计销量为206.6万辆"], "doc": "an-article"}
{"id": "q2", "kind": "conversation", "lang": "zh-Hans", "question": "其中新能源汽车呢？", "history": ["长安汽车前三季度销量多少？"], "evidence": ["新能源汽车销量72.4万辆"], "doc": "an-article"}
{"id": "q3", "kind": "unanswerable", "lang": "en", "question": "What was the company's share price on its first day?", "history": [], "evidence": []}
"""


def load_eval_set(path: Path) -> list[EvalItem]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvalSetError(f"evaluation file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise EvalSetError(f"evaluation file {path} is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    items, seen = [], {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):  # blank lines and comments
            continue
        where = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        item = _check(row, where)
        if item.id in seen:
            raise EvalSetError(f"{where}: id {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise EvalSetError(f"evaluation file {path} has no questions")
    return items
