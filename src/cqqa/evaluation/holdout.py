"""Unanswerable questions from answerable ones: hold some articles out of the corpus and ask
their questions. They stay near the corpus's topics (same source, same kind of text), but no
article left answers them: the honest test of "not in the articles" on any corpus with an
evaluation set, the user's own included (`cqqa calibrate --holdout N`).

The held-out articles are spread over the sorted article names (every len/N-th), so the choice
is the same on every run and machine.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from cqqa.errors import CqqaError
from cqqa.evaluation.evalset import EvalItem


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
