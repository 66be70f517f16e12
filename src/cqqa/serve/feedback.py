"""👍/👎 on answers, kept in a local JSONL file: a growing source of evaluation questions.

One line per answered question: {"answer_id", "time", "liked", "question", "query", "history",
"answer", "answerable", "cited": [chunk ids], "index_version"}. Voting again on the same answer
replaces its line (one vote per answer, changeable), so clicking 👍 ten times leaves one row.
The file is rewritten atomically under a lock: concurrent votes never interleave, and a crash
mid-write leaves the previous file. Lines the file already had are kept byte for byte.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from cqqa.answer.types import Answer


def _answer_id(line: str) -> str | None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return None
    return row.get("answer_id") if isinstance(row, dict) else None


def record(path: Path, answer: Answer, liked: bool, history: list[str] | None = None,
           answer_id: str | None = None) -> dict:
    """Save a vote; a vote on an answer_id that already has one replaces it."""
    row = {
        "answer_id": answer_id,
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
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with FileLock(str(path) + ".lock"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        kept = [old for old in lines if answer_id is None or _answer_id(old) != answer_id]
        fd, tmp = tempfile.mkstemp(prefix=".feedback-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(kept + [line])
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return row
