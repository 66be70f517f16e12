"""An answer as the user reads it (`readable`: each quote, then its translation or why there is
none) and as the documented JSON (`answer_json`, for `cqqa ask --json`, /api/ask and the kept
conversations; `answer_from_json` reads it back)."""

from __future__ import annotations

from dataclasses import asdict

from cqqa.answer.types import Answer, Citation, Translation
from cqqa.textnorm import language


MACHINE_TRANSLATION = "machine translation"
STATUS_LINES = {
    "pending": "↳ (translation waiting)",
    "writing": "↳ (translating, not yet checked) {draft}",
    "checked": "↳ [" + MACHINE_TRANSLATION + "; numbers and names match the source] {text}",
    "withheld": "↳ (translation withheld: {problems}; the quote above is the source)",
    "failed": "↳ (no translation: {problems})",
}


def readable(answer: Answer) -> str:
    """The answer as a user reads it: each quote followed by its translation (or why there is
    none), then any notice."""
    lines, k = [], 0
    for line in answer.answer.split("\n"):
        lines.append(line)
        if line.startswith("「") and k < len(answer.translations):
            t = answer.translations[k]
            k += 1
            lines.append("    " + STATUS_LINES[t.status].format(draft=t.draft, text=t.text,
                                                            problems="; ".join(t.problems)))
    text = "\n".join(lines)
    return text + (f"\n\n⚠ {answer.notice}" if answer.notice else "")


def answer_json(answer: Answer) -> dict:
    """The documented JSON shape of an answer (cqqa ask --json, /api/ask)."""
    data = asdict(answer)
    keep = ("n", "chunk_id", "doc", "title", "text", "start", "end", "heading", "page", "quotes")
    return {
        "question": data["question"],
        "answer": data["answer"],
        "answerable": data["answerable"],
        "lang": data["lang"],
        "citations": [{k: c[k] for k in keep} for c in data["citations"]],
        "related": [{k: c[k] for k in keep if k != "n"} for c in data["related"]],
        "query": data["query"],
        "composer": data["composer"],
        "notice": data["notice"],
        "index_version": data["index_version"],
        "reader": data["reader"],
        "translations": [{k: t[k] for k in ("n", "quote", "text", "status", "checks", "problems", "draft",
                                            "seconds", "first_token_seconds")}
                         for t in data["translations"]],
    }


def answer_from_json(data: dict) -> Answer:
    """An Answer back from answer_json's shape (a kept conversation's answers)."""
    def citation(row: dict, n: int) -> Citation:
        return Citation(row.get("n", n), row["chunk_id"], row["doc"], row["title"], row["text"], row["start"],
                        row["end"], row.get("heading", ""), list(row.get("quotes") or []), row.get("page", 0))

    return Answer(data["question"], data["answer"], bool(data["answerable"]),
                  [citation(c, i + 1) for i, c in enumerate(data.get("citations") or [])],
                  [citation(c, 0) for c in data.get("related") or []],
                  data.get("lang") or language(data["question"]), data.get("query", ""),
                  data.get("composer", "extractive"), data.get("notice", ""), data.get("index_version", ""),
                  [Translation(**t) for t in data.get("translations") or []], data.get("reader", ""))
