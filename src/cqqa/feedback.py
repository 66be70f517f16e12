"""👍/👎 on answers, appended to a local JSONL file: a growing source of evaluation questions.

One line per vote: {"time", "liked", "question", "query", "history", "answer",
"answerable", "cited": [chunk ids], "index_version"}. The file is only ever
appended to, under a lock, so concurrent votes never interleave.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from filelock import FileLock

from cqqa.answer import Answer


def default_path() -> Path:
    return Path(os.environ.get("CQQA_FEEDBACK_FILE") or "feedback/feedback.jsonl")


def record(path: Path, answer: Answer, liked: bool, history: list[str] | None = None) -> dict:
    row = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "liked": liked,
        "question": answer.question,
        "query": answer.query,
        "history": history or [],
        "answer": answer.answer,
        "answerable": answer.answerable,
        "cited": [c.chunk_id for c in answer.citations],
        "index_version": answer.index_version,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return row
