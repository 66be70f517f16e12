"""Cut cleaned documents into chunks that know their span in the original file.

Each section (body paragraphs under one heading) is split with langchain's
RecursiveCharacterTextSplitter: paragraphs first, then sentence ends (。！？
with any closing quote kept with the sentence), then clauses, then characters.
Lengths are counted in tiktoken tokens. A chunk never crosses a heading, so
its original span contains only its own text (plus line breaks).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from cqqa.ingest.cleaning import Section, clean, sections
from cqqa.config import ChunkSettings
from cqqa.ingest.sources import Document
from cqqa.ingest.tiktoken_offline import count_tokens
from cqqa.textnorm import CLAUSE_ENDS, CLOSERS, SENTENCE_ENDS

PARAGRAPH_SEP = "\n\n"
SEPARATORS = [
    r"\n\n",
    r"\n",
    f"[{SENTENCE_ENDS}]+[{CLOSERS}]*",  # a sentence end, with its closing quote
    f"[{CLAUSE_ENDS}]",
    r"[，,、：:]",
    r" ",
    r"",
]


# The sentence table's units end at a sentence or clause end, but not at "…": the index's
# sentence table (FORMAT 7) was built so, and changing it re-embeds every index.
UNIT_ENDS = SENTENCE_ENDS.replace("…", "") + CLAUSE_ENDS
SENTENCE = re.compile(f"[^{UNIT_ENDS}]*[{UNIT_ENDS}]+[{CLOSERS}]*|[^{UNIT_ENDS}]+$")
MIN_SENTENCE_CHARS = 4


def sentences(text: str) -> list[str]:
    """The sentences of a chunk's text, as scored by the sentence-level stage of search."""
    out = []
    for paragraph in text.split(PARAGRAPH_SEP):
        for match in SENTENCE.finditer(paragraph):
            sentence = match.group().strip()
            if len(sentence) >= MIN_SENTENCE_CHARS:
                out.append(sentence)
    return out


@dataclass
class Chunk:
    chunk_id: str  # "<doc_id>#<ordinal>"
    doc_id: str
    ordinal: int
    title: str
    heading: str
    text: str  # as shown to users, in the source's own script
    start: int  # span in the original (decoded) source text
    end: int
    page: int = 0  # the page `start` is on (PDF), 0 for sources without pages

    def to_dict(self) -> dict:
        return asdict(self)


def _splitter(settings: ChunkSettings):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        chunk_size=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        length_function=lambda text: count_tokens(text, settings.encoding),
        strip_whitespace=True,
    )


def _section_text(section: Section) -> tuple[str, list[int]]:
    text, offsets = "", []
    for para in section.paragraphs:
        if text:
            text += PARAGRAPH_SEP
            offsets.extend([offsets[-1] + 1] * len(PARAGRAPH_SEP))  # the original's line break
        text += para.text
        offsets.extend(para.offsets)
    return text, offsets


def chunk_document(doc: Document, settings: ChunkSettings) -> list[Chunk]:
    splitter = _splitter(settings)
    title = doc.title  # once per document: without a sidecar title it scans the text
    chunks: list[Chunk] = []
    for section in sections(clean(doc.text, doc.layout)):
        text, offsets = _section_text(section)
        cursor = 0
        for piece in splitter.split_text(text):
            at = text.find(piece, cursor)
            if at < 0:  # cannot happen: the splitter only cuts and strips
                raise AssertionError(f"chunk not found in its section of {doc.doc_id}: {piece[:30]!r}")
            cursor = at + 1
            chunks.append(Chunk(
                chunk_id=f"{doc.doc_id}#{len(chunks)}",
                doc_id=doc.doc_id,
                ordinal=len(chunks),
                title=title,
                heading=section.heading,
                text=piece,
                start=offsets[at],
                end=offsets[at + len(piece) - 1] + 1,
                page=doc.page_of(offsets[at]),
            ))
    return chunks
