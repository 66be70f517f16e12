"""Clean a source text into paragraphs and headings, keeping a map back to the original.

Two layouts occur:

* **lines** — one paragraph per line (the feature article). Each non-blank line
  is a paragraph; a short line without closing punctuation is a heading.
* **wrapped** — a newspaper page extracted column by column. Lines break inside
  words and sentences, blank lines fall inside paragraphs, headlines and
  captions sit between columns. Lines are re-joined: a line that does not end
  a sentence continues on the next text line, even across a blank line; one
  that ends a sentence but fills the column continues on the next line of its
  block (a sentence ending at the column's edge says nothing of the paragraph). A
  short block of unpunctuated lines is a heading, unless its last character
  and the next line's first one make a word (then it is a wrapped column line).

The layout is detected (a text where most lines end mid-sentence is wrapped)
or set by `layout = "lines"|"wrapped"` in the document's metadata.

Nothing is reordered or rewritten: a cleaned paragraph is the original's
characters minus line breaks and edge whitespace, and `Paragraph.offsets[i]` is
the position in the original file of `Paragraph.text[i]`. So every chunk can
name its exact span in the original, and a citation can highlight it.

Captions (photo credits, QR-code prompts, bylines) are recognised by pattern
and kept out of chunk text and heading context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cqqa.ingest.formats.base import CELL_SEPARATOR, PAGE_BREAK
from cqqa.textnorm import CLAUSE_ENDS, CLOSERS, SENTENCE_ENDS, is_han, jieba, width

# A line ends a sentence with one of these (a clause end too: the line does not run on),
# possibly followed by closers, or by the close of a title or bracket (】》) that ends a line.
SENTENCE_END = set(SENTENCE_ENDS + CLAUSE_ENDS)
LINE_CLOSERS = set(CLOSERS + "】》")
# A line ending with one of these certainly continues.
CONTINUES = set("，,、：:（(“‘「『《【")
CLEANING = 3  # in the index's settings: a change to how paragraphs are found rebuilds it (2: full lines run on; 3: wrapped captions)
HEADING_MAX_CHARS = 40
HEADING_MAX_LINES = 3
# A wrapped line this close to the column's full width (in half-width characters: one Chinese
# character) that ends a sentence may end only the line: the paragraph runs on if its block does.
FULL_LINE_SLACK = 2
WRAPPED_CAPTION_TAIL = 6  # characters of a caption's end wrapped onto the next line ("图）")
WRAPPED_LINES = 8  # fewer lines that surely wrap than this tell no column width

CAPTION = re.compile(
    r"^\s*(圖片來源|图片来源|圖/|图/|來源[:：]|来源[:：]|■|扫一扫|掃一掃|就看到|对话会视频)"
    r"|[（(][^（）()]*(供图|供圖|摄|攝)[）)]\s*$"
)
# In the Chongqing Daily layout a "关键词" (keyword) box closes the section it labels.
TRAILING_HEADING = re.compile(r"^\s*(关键词|關鍵詞)")


@dataclass
class Paragraph:
    kind: str  # "body", "heading" or "caption"
    text: str
    offsets: list[int]  # offsets[i] = position of text[i] in the original file

    @property
    def start(self) -> int:
        return self.offsets[0]

    @property
    def end(self) -> int:
        return self.offsets[-1] + 1


@dataclass
class Line:
    text: str  # stripped
    start: int  # offset of text[0] in the original

    def offsets(self) -> list[int]:
        return list(range(self.start, self.start + len(self.text)))


def ends_sentence(text: str) -> bool:
    stripped = text.rstrip()
    while stripped and stripped[-1] in LINE_CLOSERS:
        stripped = stripped[:-1]
    return bool(stripped) and stripped[-1] in SENTENCE_END


def _heading_shaped(text: str) -> bool:
    return (
        0 < len(text) <= HEADING_MAX_CHARS
        and not ends_sentence(text)
        and text[-1] not in CONTINUES
        and CELL_SEPARATOR not in text  # a table row (as formats write them) is body text
    )


def breaks_word(before: str, after: str) -> bool:
    """True when the last char of `before` and the first of `after` belong to one word."""
    if not before or not after or not (is_han(before[-1]) and is_han(after[0])):
        return False
    left, right = before[-3:], after[:3]
    position = 0
    for token in jieba().lcut(left + right, HMM=False):
        if position < len(left) < position + len(token):
            return True
        position += len(token)
    return False


def split_lines(source: str) -> list[Line | None]:
    """Lines with their offsets; None stands for a blank line."""
    out: list[Line | None] = []
    pos = 0
    for raw in source.splitlines(keepends=True):
        if raw == PAGE_BREAK:  # between a PDF's pages: not a blank line, a paragraph runs on across it
            pos += len(raw)
            continue
        body = raw.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        text = body.strip()
        out.append(Line(text, pos + lead) if text else None)
        pos += len(raw)
    return out


def detect_layout(lines: list[Line | None]) -> str:
    text_lines = [ln for ln in lines if ln is not None and not CAPTION.search(ln.text)]
    if not text_lines:
        return "lines"
    open_lines = sum(1 for ln in text_lines if not ends_sentence(ln.text))
    return "wrapped" if open_lines > 0.3 * len(text_lines) else "lines"


def _join(parts: list[Line]) -> tuple[str, list[int]]:
    """Join wrapped lines: no space between CJK, one space between Latin words."""
    text, offsets = "", []
    for line in parts:
        if text and not is_han(text[-1]) and not is_han(line.text[0]) and text[-1].isalnum() and line.text[0].isalnum():
            text += " "
            offsets.append(offsets[-1] + 1)  # the original's line break
        text += line.text
        offsets.extend(line.offsets())
    return text, offsets


def _join_heading(lines: list[Line]) -> tuple[str, list[int]]:
    """Heading lines are separate units: join them with a space."""
    text, offsets = lines[0].text, lines[0].offsets()
    for line in lines[1:]:
        text += " "
        offsets.append(offsets[-1] + 1)  # the original's line break
        text += line.text
        offsets.extend(line.offsets())
    return text, offsets


def _clean_lines(lines: list[Line | None]) -> list[Paragraph]:
    out = []
    for line in lines:
        if line is None:
            continue
        if CAPTION.search(line.text):
            kind = "caption"
        elif _heading_shaped(line.text) and len(line.text) <= 32:
            kind = "heading"
        else:
            kind = "body"
        out.append(Paragraph(kind, line.text, line.offsets()))
    return out


def _blocks(lines: list[Line | None]) -> list[list[Line]]:
    blocks, current = [], []
    for line in lines:
        if line is None:
            if current:
                blocks.append(current)
            current = []
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


def caption_lines(block: list[Line]) -> set[int]:
    """Which of a block's lines are captions: each line that reads as one, and a caption wrapped
    onto a short next line ("…现场。 （受访者供" + "图）", as a PDF column breaks it)."""
    found = set()
    for n, line in enumerate(block):
        if CAPTION.search(line.text):
            found.add(n)
        elif n + 1 < len(block) and len(block[n + 1].text) <= WRAPPED_CAPTION_TAIL \
                and CAPTION.search(line.text + block[n + 1].text):
            found |= {n, n + 1}
    return found


def full_width(lines: list[str], least: int = 4) -> int:
    """The width a column's lines fill (most wrapped lines of prose fill it); with fewer than
    `least` lines, none is taken as full."""
    widths = sorted(width(line) for line in lines if line.strip())
    return widths[int(0.9 * (len(widths) - 1))] if len(widths) >= least else 10**9


def _clean_wrapped(lines: list[Line | None]) -> list[Paragraph]:
    out: list[Paragraph] = []
    pending: list[Line] = []  # lines of the body paragraph being built

    def flush() -> None:
        if pending:
            text, offsets = _join(pending)
            out.append(Paragraph("body", text, offsets))
            pending.clear()

    blocks = _blocks(lines)
    # the column's width, from lines that surely wrap (no sentence ends there), when there are enough of them
    full = full_width([ln.text for block in blocks for ln in block if not ends_sentence(ln.text)], least=WRAPPED_LINES)
    for b, block in enumerate(blocks):
        captions = caption_lines(block)
        text_lines = [ln for n, ln in enumerate(block) if n not in captions]
        next_line = blocks[b + 1][0] if b + 1 < len(blocks) else None  # (_blocks makes no empty block)
        is_heading = (
            not pending
            and text_lines
            and len(text_lines) <= HEADING_MAX_LINES
            and all(_heading_shaped(ln.text) for ln in text_lines)
            and not any(breaks_word(upper.text, lower.text) for upper, lower in zip(text_lines, text_lines[1:]))
            and not (next_line and breaks_word(text_lines[-1].text, next_line.text))
        )
        if is_heading:
            text, offsets = _join_heading(text_lines)
            out.append(Paragraph("heading", text, offsets))
        for n, ln in enumerate(block):
            if n in captions:
                out.append(Paragraph("caption", ln.text, ln.offsets()))
            elif CELL_SEPARATOR in ln.text and not is_heading:  # a table row: a paragraph of its own
                flush()
                pending.append(ln)
                flush()
            elif not is_heading:
                pending.append(ln)
                if ends_sentence(ln.text) and not (ln is not block[-1] and width(ln.text) >= full - FULL_LINE_SLACK):
                    flush()
    flush()
    return sorted(out, key=lambda p: p.start)  # reading order: a caption met mid-paragraph follows it


def clean(source: str, layout: str = "auto") -> list[Paragraph]:
    """Paragraphs of a source text, in the original order, each mapped back to it."""
    lines = split_lines(source)
    if layout == "auto":
        layout = detect_layout(lines)
    if layout not in ("lines", "wrapped"):
        raise ValueError(f"unknown layout {layout!r}: use auto, lines or wrapped")
    return _clean_lines(lines) if layout == "lines" else _clean_wrapped(lines)


@dataclass
class Section:
    heading: str  # "" before the first heading
    paragraphs: list[Paragraph]


def sections(paragraphs: list[Paragraph]) -> list[Section]:
    """Group body paragraphs under their heading; captions are dropped.

    A caption also ends a section (the next one keeps the same heading), so that
    a chunk's original span never contains a caption.

    Consecutive heading lines form one heading. A trailing heading (see
    TRAILING_HEADING) labels the section above it instead of the one below.
    """
    out: list[Section] = [Section("", [])]
    run: list[str] = []

    def close_run() -> None:
        if not run:
            return
        heading = " ".join(run)
        run.clear()
        if TRAILING_HEADING.search(heading) and out[-1].paragraphs:
            out[-1].heading = f"{out[-1].heading} / {heading}" if out[-1].heading else heading
            out.append(Section("", []))
        else:
            out.append(Section(heading, []))

    for para in paragraphs:
        if para.kind == "heading":
            run.append(para.text)
        elif para.kind == "body":
            close_run()
            out[-1].paragraphs.append(para)
        elif out[-1].paragraphs:  # a caption between body paragraphs
            out.append(Section(out[-1].heading, []))
    close_run()
    return [s for s in out if s.paragraphs]
