"""The audit log: one JSON line for every article added or replaced, every change to a user or a
token, every login, failed login and logout — who, when, from where, what. A file beside the users
file (CQQA_AUDIT_FILE, default `users/audit.jsonl`, mode 0600), appended to by every replica and by
`cqqa users`; each line is written with one append, so lines from several processes never mix.

    {"time": "2026-12-05T12:00:00Z", "who": "alice", "address": "10.0.0.7", "what": "login failed",
     "detail": {...}}
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


class Audit:
    def __init__(self, path: Path):
        self.path = Path(path)

    def write(self, who: str, what: str, address: str = "", **detail) -> None:
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "who": who, "address": address,
                "what": what} | ({"detail": detail} if detail else {})
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def lines(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
