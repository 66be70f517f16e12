"""Answers with numbered citations, composed from retrieved passages without a language model.

The extractive composer quotes the sentences of the top passages that are most
similar to the question (the same embedding model as retrieval), each with its
citation marker; a Chinese question gets them in its own script (OpenCC), the
citation keeping the source's. A question not in Chinese gets a
one-line lead in English naming the source. Nothing is invented: every word
after the lead is the article's own.

When retrieval says nothing answers (Retrieval.answerable), the answer says so
plainly in the question's language, names the article that comes closest, and
offers the closest passages as what they are, the nearest text that does not
say it, never as citations. Most such questions are near misses: the article is
about what was asked, only not the asked fact, and its closest sentence reads
like an answer; the user is told it is not one.
"""

from __future__ import annotations

from cqqa.answer.quotes import MAX_PASSAGES, score_sentences, select_quotes
from cqqa.answer.types import Answer, Citation, citation_from_hit
from cqqa.textnorm import language, to_simplified, to_traditional

REFUSAL = {  # {closest}: the article of the closest passage (closest_name)
    "en": "The articles do not say this. The closest is {closest}: the passages listed below come nearest, "
          "but they do not say it.",
    "zh-Hans": "文章中没有说到这一点。最接近的是{closest}：下面列出的段落最接近，但并没有说到。",
    "zh-Hant": "文章中沒有說到這一點。最接近的是{closest}：下面列出的段落最接近，但並沒有說到。",
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


def closest_name(lang: str, hit, meta: dict) -> str:
    """How a refusal names the article of the closest passage: as the English lead names a source,
    or its title in 《》 in the question's script."""
    meta = {"title": hit.title or hit.doc, **{k: v for k, v in meta.items() if v}}
    if lang == "en":
        return source_name(meta)
    return f"《{in_script(meta['title'], lang)}》"


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
        refusal = REFUSAL[lang].format(closest=closest_name(lang, hits[0], meta_of(hits[0].doc)))
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
