"""Unanswerable questions from answerable ones, two ways, on any corpus with an evaluation set:

* **whole articles held out** (`hold_out`): their questions stay near the corpus's topics (same
  source, same kind of text), but no article left answers them (`cqqa calibrate --holdout N`).
  The held-out articles are spread over the sorted article names (every len/N-th).
* **near misses** (`near_misses`): one paragraph removed from each article. A question whose
  answer stood in that paragraph and nowhere else in what is left of its article becomes
  unanswerable; the article is still about the same people and things, with the same names,
  only the asked fact is gone. The question is dropped when its answer still stands elsewhere.
  An article written as one paragraph (CMRC 2018) is first cut at sentence ends into PARTS
  parts of about equal length, which count as its paragraphs.

Both choices are fixed by the sorted file names, so they are the same on every run and machine.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from cqqa.errors import CqqaError
from cqqa.evaluation.evalset import EvalItem
from cqqa.textnorm import CHINESE_SENTENCE_ENDS, fold


def held_out_docs(docs: list[str], n: int) -> list[str]:
    """n article names out of `docs`, spread evenly over their sorted order."""
    docs = sorted(set(docs))
    if not 0 < n < len(docs):
        raise CqqaError(f"cannot hold out {n} of {len(docs)} articles: choose between 1 and {len(docs) - 1}")
    step = len(docs) / n
    return [docs[int(step * i + step / 2)] for i in range(n)]


def hold_out(items: list[EvalItem], source: Path, out: Path, n: int) -> tuple[list[EvalItem], list[str]]:
    """Copy `source` into `out` without n articles that questions are asked about; return the
    questions with those articles' made unanswerable (evidence emptied), and the articles' names.
    Questions are matched to articles by their `doc` field (the file's stem)."""
    stems = {path.stem: path for path in sorted(source.iterdir()) if path.is_file()}
    asked = sorted({item.doc for item in items if item.answerable and item.doc in stems})
    if not asked:
        raise CqqaError(f"no question's 'doc' names a file in {source}: a held-out construction needs "
                        "each question's article (the file's name without its extension) in 'doc'")
    removed = held_out_docs(asked, n)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for stem, path in stems.items():
        if stem not in removed:
            shutil.copy2(path, out / path.name)
    made = [replace(item, kind="unanswerable", evidence=(), history=item.history) if item.doc in removed else item
            for item in items]
    return made, removed


TITLE_MAX_CHARS = 60


def paragraphs(text: str) -> tuple[list[str], list[str]]:
    """An article file as the benchmarks write it: blocks separated by blank lines, the first a
    title when it is one short line that ends no sentence (CMRC 2018, DRCD; xquad-dev has none).
    (the title, as a list of zero or one block; the paragraphs)."""
    blocks = [b for b in text.strip("\n").split("\n\n") if b.strip()]
    first = blocks[0] if blocks else ""
    if len(blocks) > 1 and "\n" not in first and len(first) <= TITLE_MAX_CHARS and not first.endswith(tuple(CHINESE_SENTENCE_ENDS)):
        return blocks[:1], blocks[1:]
    return [], blocks


PARTS = 3  # a one-paragraph article is cut into this many parts for the near-miss construction


def parts(paragraph: str, n: int = PARTS) -> list[str]:
    """A paragraph cut after sentence ends into at most n parts of about equal length."""
    sentences = [s for s in re.split(f"(?<=[{re.escape(CHINESE_SENTENCE_ENDS)}])", paragraph) if s]
    if len(sentences) < n:
        return [paragraph]
    out, current, share = [], "", len(paragraph) / n
    for sentence in sentences:
        current += sentence
        if len(current) >= share and len(out) < n - 1:
            out.append(current)
            current = ""
    return out + [current] if current else out


def removed_paragraph(position: int, count: int) -> int:
    """Which paragraph goes from the article at `position` in sorted order: position % count
    (xquad-dev-near-misses: paragraph (n // 2) % count of article xquad_n, the same thing)."""
    return position % count


def answers_of(item: EvalItem) -> tuple[str, ...]:
    """What must no longer be written for the question to have no answer: the gold answer span
    when the set gives one (answer_zh), else its evidence strings."""
    answer = item.extra.get("answer_zh")
    return (answer,) if answer else item.evidence


def near_misses(items: list[EvalItem], source: Path, out: Path) -> tuple[list[EvalItem], dict[str, int]]:
    """Copy `source` into `out` with one paragraph removed from each article that has two or more;
    return the questions relabelled (on the removed paragraph, answer gone: unanswerable; answer
    still written elsewhere in the article: dropped; others as they were) and, per article, the
    paragraph removed (0-based). Questions are matched to articles by `doc` (the file's stem)."""
    files = sorted(path for path in source.iterdir() if path.is_file())
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    removed, gone, left = {}, {}, {}
    for position, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        title, paras = paragraphs(text)
        joiner = "\n\n"
        if len(paras) == 1:
            paras, joiner = parts(paras[0]), ""
        if len(paras) >= 2:
            removed[path.stem] = which = removed_paragraph(position, len(paras))
            gone[path.stem] = fold(paras[which])
            paras = paras[:which] + paras[which + 1:]
        left[path.stem] = fold("\n".join(title + paras))
        ending = "\n" if text.endswith("\n") else ""
        body = "\n\n".join(title + [joiner.join(paras)])
        (out / path.name).write_text(body + ending, encoding="utf-8")
    made = []
    for item in items:
        if not item.answerable or item.doc not in gone or not any(fold(e) in gone[item.doc] for e in item.evidence):
            made.append(item)
        elif not any(fold(answer) in left[item.doc] for answer in answers_of(item)):
            made.append(replace(item, kind="unanswerable", evidence=()))
    return made, removed
