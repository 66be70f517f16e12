"""Answers with numbered citations, composed from retrieved passages without a language model.

The extractive composer quotes the sentences of the top passages that are most
similar to the question (the same embedding model as retrieval), each with its
citation marker; a Chinese question gets them in its own script (OpenCC), the
citation keeping the source's. A question not in Chinese gets a
one-line lead in English naming the source. Nothing is invented: every word
after the lead is the article's own.

When retrieval says nothing answers (Retrieval.answerable), the answer says so
plainly in the question's language and the closest passages are offered as
"possibly related", never as citations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cqqa.answer.quotes import MAX_PASSAGES, score_sentences, select_quotes
from cqqa.textnorm import language, to_simplified, to_traditional

REFUSAL = {
    "en": "I could not find an answer to this in the articles. The closest passages are listed as "
          "possibly related; they may not answer your question.",
    "zh-Hans": "文章中没有找到这个问题的答案。下面列出的是可能相关的段落，未必回答了您的问题。",
    "zh-Hant": "文章中沒有找到這個問題的答案。下面列出的是可能相關的段落，未必回答了您的問題。",
}
ABSENT = {  # said before the refusal when the question uses words the articles never do (absent_terms.py)
    "en": "The articles never mention {terms}.",
    "zh-Hans": "文章中没有出现{terms}。",
    "zh-Hant": "文章中沒有出現{terms}。",
}
NO_PASSAGES = {
    "en": "The index has no passages to answer from.",
    "zh-Hans": "索引中没有可用的段落。",
    "zh-Hant": "索引中沒有可用的段落。",
}


@dataclass
class Citation:
    n: int  # the marker's number: [n]
    chunk_id: str
    doc: str
    title: str
    text: str  # the whole passage, in the source's script
    start: int  # the passage's span in the article (index offsets)
    end: int
    heading: str = ""
    quotes: list[str] = field(default_factory=list)  # the sentences of `text` the answer quotes
    page: int = 0  # the page the passage starts on (PDF sources), else 0


@dataclass
class Answer:
    question: str
    answer: str
    answerable: bool
    citations: list[Citation]
    related: list[Citation] = field(default_factory=list)  # "possibly related" when not answerable
    lang: str = "en"
    query: str = ""  # the self-contained query that was searched
    composer: str = "extractive"  # or "generative"
    notice: str = ""  # e.g. why a language model's answer was replaced
    index_version: str = ""
    translations: list = field(default_factory=list)  # reader.Translation, one per quote, in order
    reader: str = ""  # the reader that translated (its model name); "" when none did


def citation_from_hit(hit, n: int, quotes: list[str] | None = None) -> Citation:
    return Citation(n, hit.chunk_id, hit.doc, hit.title, hit.text, hit.start, hit.end, hit.heading, quotes or [],
                    hit.page)


def quotes_of(answer: Answer) -> list[tuple[int, str]]:
    """(marker, quote) of every quote, in the order the answer reads them."""
    return [(c.n, quote) for c in answer.citations for quote in c.quotes]


def in_script(text: str, lang: str) -> str:
    """A quote in the Chinese script of the question (OpenCC; the citation keeps the original)."""
    if lang == "zh-Hans":
        return to_simplified(text)
    if lang == "zh-Hant":
        return to_traditional(text)
    return text


def source_name(meta: dict) -> str:
    """How the English lead names an article: its publication and date, else its English title."""
    publication = meta.get("publication_en") or ""
    date = _english_date(meta.get("date") or meta.get("event_date") or "")
    if publication:
        return f"the {publication} report" + (f" of {date}" if date else "")
    title = meta.get("title_en") or meta.get("title") or "the article"
    return f"the article “{title}”" + (f" ({date})" if date else "")


_MONTHS = ("January February March April May June July August September October November December").split()


def _english_date(iso: str) -> str:
    parts = iso.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return iso


def compose_extractive(question: str, retrieval) -> Answer:
    """An answer quoting the best sentences of a Retrieval's passages (search.py), or saying
    plainly that the articles do not answer, naming the question's words they never use."""
    hits, meta_of = retrieval.hits, retrieval.index.document_meta if retrieval.index else (lambda doc: {})
    lang = language(question)
    common = {"lang": lang, "query": retrieval.plan.query, "index_version": retrieval.index_version}
    if not hits:
        return Answer(question, NO_PASSAGES[lang], False, [], **common)
    if not retrieval.answerable:
        related = [citation_from_hit(hit, i + 1) for i, hit in enumerate(hits[:MAX_PASSAGES])]
        refusal = REFUSAL[lang]
        if retrieval.absent_terms:
            separator = ", " if lang == "en" else "、"
            named = ABSENT[lang].format(terms=separator.join(f"“{t}”" for t in retrieval.absent_terms))
            refusal = f"{named} {refusal}" if lang == "en" else named + refusal
        return Answer(question, refusal, False, [], related, **common)
    top = hits[:MAX_PASSAGES]
    quotes = select_quotes([score_sentences(question, retrieval.sentence_scores(hit), retrieval.roles)
                            for hit in top])
    if not quotes:  # passages without sentences of substance: cite the best passage whole
        quotes = [(0, top[0].text)]
    citations: dict[int, Citation] = {}
    for p, text in quotes:
        if p not in citations:
            citations[p] = citation_from_hit(top[p], len(citations) + 1)
        citations[p].quotes.append(text)
    lines = [f"「{in_script(text.strip(), lang)}」[{citations[p].n}]" for p, text in quotes]
    if lang == "en":
        lines.insert(0, _lead(list(citations.values()), meta_of))
    return Answer(question, "\n".join(lines), True, list(citations.values()), **common)


def _lead(citations: list[Citation], meta_of) -> str:
    by_doc: dict[str, list[int]] = {}
    for c in citations:
        by_doc.setdefault(c.doc, []).append(c.n)
    parts = [f"{source_name(meta_of(doc))} {''.join(f'[{n}]' for n in ns)}" for doc, ns in by_doc.items()]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"From {joined}:"


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
    from cqqa.answer.reader import Translation

    def citation(row: dict, n: int) -> Citation:
        return Citation(row.get("n", n), row["chunk_id"], row["doc"], row["title"], row["text"], row["start"],
                        row["end"], row.get("heading", ""), list(row.get("quotes") or []), row.get("page", 0))

    return Answer(data["question"], data["answer"], bool(data["answerable"]),
                  [citation(c, i + 1) for i, c in enumerate(data.get("citations") or [])],
                  [citation(c, 0) for c in data.get("related") or []],
                  data.get("lang") or language(data["question"]), data.get("query", ""),
                  data.get("composer", "extractive"), data.get("notice", ""), data.get("index_version", ""),
                  [Translation(**t) for t in data.get("translations") or []], data.get("reader", ""))
