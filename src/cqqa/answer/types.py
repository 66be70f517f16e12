"""The answer's data model: an Answer with its numbered Citations (the passages it quotes) and
the Translations of its quotes. Composed by compose.py, translated by reader.py, shown and
kept as present.py writes it."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    translations: list[Translation] = field(default_factory=list)  # one per quote, in order
    reader: str = ""  # the reader that translated (its model name); "" when none did


def citation_from_hit(hit, n: int, quotes: list[str] | None = None) -> Citation:
    return Citation(n, hit.chunk_id, hit.doc, hit.title, hit.text, hit.start, hit.end, hit.heading, quotes or [],
                    hit.page)


def quotes_of(answer: Answer) -> list[tuple[int, str]]:
    """(marker, quote) of every quote, in the order the answer reads them."""
    return [(c.n, quote) for c in answer.citations for quote in c.quotes]


@dataclass
class Translation:
    n: int  # the citation marker of the quote it translates
    quote: str  # the quote, in the source's script
    text: str = ""  # the translation: shown once checked; "" when withheld or failed
    status: str = "pending"  # pending, writing, checked, withheld, failed
    checks: dict[str, bool] = field(default_factory=dict)  # numbers, names, script
    problems: list[str] = field(default_factory=list)  # why it was withheld or failed
    draft: str = ""  # the model's text as written (while writing; kept when withheld, for evaluation)
    seconds: float = 0.0  # from the request to the last token
    first_token_seconds: float | None = None
