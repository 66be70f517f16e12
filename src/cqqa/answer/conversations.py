"""Conversations that last: every question and its answer, kept in one local SQLite file
(`conversations/conversations.sqlite3`, CQQA_CONVERSATIONS_FILE).

A conversation has a random id (also what `cqqa ask --conversation ID` and `/api/ask?conversation=`
take) and, for the web chat, an owner: a hash of the random key the browser keeps, so that each
browser lists its own conversations. Each answer has its own random id, the link
`/answer/<id>` shows it read-only. An answer is kept as answered: its text, citations and
translations (compose.answer_json), the index version it came from, and the SHA-256 of each
article it cites, so that reopening it can say when an article has changed since (`changes`).

Bounded: past CQQA_CONVERSATIONS_MAX conversations (default 500) the least recently used are
deleted, and a conversation keeps its last MAX_TURNS answers. Every change is one SQLite
transaction: a crash leaves the file as it was before that change.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cqqa.answer.present import answer_from_json, answer_json
from cqqa.answer.types import Answer
from cqqa.errors import CqqaError

MAX_TURNS = 200
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    created REAL NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, documents TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS answers_by_conversation ON answers(conversation, created);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations(owner, updated);
"""


class ConversationError(CqqaError):
    pass


@dataclass
class Kept:
    """One kept answer."""

    id: str
    conversation: str
    created: float
    answer: Answer
    documents: dict[str, str]  # doc id -> SHA-256 of the article when it was answered


@dataclass
class Summary:
    id: str
    title: str  # the first question
    updated: float
    answers: int


def new_id() -> str:
    return secrets.token_hex(16)


def is_id(text: str) -> bool:
    return isinstance(text, str) and len(text) == 32 and all(c in "0123456789abcdef" for c in text)


class Conversations:
    def __init__(self, path: Path, max_conversations: int = 500):
        if max_conversations < 1:
            raise ConversationError(f"CQQA_CONVERSATIONS_MAX={max_conversations} must be 1 or more")
        self.path = Path(path)
        self.max_conversations = max_conversations
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConversationError(f"cannot keep conversations in {self.path}: {exc}; set CQQA_CONVERSATIONS_FILE "
                                    "to a writable file, or move the damaged file away") from None

    @contextmanager
    def _db(self):
        """One connection per call, one transaction (committed, or rolled back on error)."""
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            with db:
                yield db

    def start(self, title: str, owner: str | None = None) -> str:
        """A new conversation; its id."""
        cid, now = new_id(), time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (cid, owner, title[:200], now, now))
            db.execute("DELETE FROM conversations WHERE id IN (SELECT id FROM conversations ORDER BY updated DESC "
                       "LIMIT -1 OFFSET ?)", (self.max_conversations,))
        return cid

    def add(self, conversation: str, answer: Answer, documents: dict[str, str]) -> str:
        """Keep an answer in a conversation; the answer's id."""
        aid, now = new_id(), time.time()
        with self._db() as db:
            if db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation)).rowcount != 1:
                raise ConversationError(f"no conversation {conversation!r}: it was deleted (or never existed)")
            db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                       (aid, conversation, now, answer.question,
                        json.dumps(answer_json(answer), ensure_ascii=False), json.dumps(documents)))
            db.execute("DELETE FROM answers WHERE conversation = ? AND id NOT IN (SELECT id FROM answers WHERE "
                       "conversation = ? ORDER BY created DESC LIMIT ?)", (conversation, conversation, MAX_TURNS))
        return aid

    def keep(self, conversation: str, answer: Answer, documents: dict[str, str],
             owner: str | None = None) -> tuple[str, str]:
        """File an answer in `conversation`, or in a new one (titled by its question) when it has
        none or that one was deleted meanwhile; (conversation id, answer id)."""
        if conversation:
            try:
                return conversation, self.add(conversation, answer, documents)
            except ConversationError:
                pass
        conversation = self.start(answer.question, owner)
        return conversation, self.add(conversation, answer, documents)

    def update(self, answer_id: str, answer: Answer) -> bool:
        """Replace a kept answer by its finished form (translations written); False if it is gone."""
        with self._db() as db:
            return db.execute("UPDATE answers SET answer = ? WHERE id = ?",
                              (json.dumps(answer_json(answer), ensure_ascii=False), answer_id)).rowcount == 1

    def exists(self, conversation: str, owner: str | None = None) -> bool:
        if not is_id(conversation):
            return False
        with self._db() as db:
            row = db.execute("SELECT owner FROM conversations WHERE id = ?", (conversation,)).fetchone()
        return row is not None and (owner is None or row[0] == owner)

    def answers(self, conversation: str) -> list[Kept]:
        """A conversation's answers, oldest first ([] for an unknown id)."""
        with self._db() as db:
            rows = db.execute("SELECT id, conversation, created, answer, documents FROM answers WHERE conversation = ? "
                              "ORDER BY created", (conversation,)).fetchall()
        return [_kept(row) for row in rows]

    def questions(self, conversation: str) -> list[str]:
        """The questions asked so far, oldest first: the history a follow-up is read with."""
        with self._db() as db:
            return [q for (q,) in db.execute("SELECT question FROM answers WHERE conversation = ? ORDER BY created",
                                             (conversation,))]

    def answer(self, answer_id: str) -> Kept | None:
        if not is_id(answer_id):
            return None
        with self._db() as db:
            row = db.execute("SELECT id, conversation, created, answer, documents FROM answers WHERE id = ?",
                             (answer_id,)).fetchone()
        return _kept(row) if row else None

    def listing(self, owner: str | None, limit: int = 100) -> list[Summary]:
        """An owner's conversations, most recently used first."""
        with self._db() as db:
            rows = db.execute("SELECT c.id, c.title, c.updated, COUNT(a.id) FROM conversations c LEFT JOIN answers a "
                              "ON a.conversation = c.id WHERE c.owner IS ? GROUP BY c.id ORDER BY c.updated DESC "
                              "LIMIT ?", (owner, limit)).fetchall()
        return [Summary(*row) for row in rows]

    def delete(self, conversation: str, owner: str | None = None) -> bool:
        """Delete a conversation and its answers (only the owner's, when `owner` is given)."""
        with self._db() as db:
            sql, args = "DELETE FROM conversations WHERE id = ?", [conversation]
            if owner is not None:
                sql, args = sql + " AND owner = ?", args + [owner]
            return db.execute(sql, args).rowcount == 1


UNFINISHED = ("the answer was closed before this quote's translation was finished; ask again to have it "
              "translated")


def _kept(row) -> Kept:
    aid, conversation, created, answer, documents = row
    answer = answer_from_json(json.loads(answer))
    for t in answer.translations:  # kept when first shown; its translations may never have come
        if t.status in ("pending", "writing"):
            t.status, t.problems = "failed", [UNFINISHED]
    return Kept(aid, conversation, created, answer, json.loads(documents))


def document_hashes(manifest: dict) -> dict[str, str]:
    """doc id -> SHA-256 of each article of an index version (its manifest)."""
    return {d["doc_id"]: d.get("sha256", "") for d in manifest["documents"]}


def documents_of(answer: Answer, versions, loaded=None) -> dict[str, str]:
    """doc id -> SHA-256 of each article the answer cites or offers, from the index version it
    came from: `loaded` (the Index in memory) when it is that version, else its manifest on disk
    ("" where that cannot be read). `versions`: the index store (index/stores/)."""
    try:
        if loaded is not None and loaded.version == answer.index_version:
            manifest = loaded.manifest
        else:
            manifest = versions.manifest(answer.index_version)
        hashes = document_hashes(manifest)
    except (CqqaError, OSError, ValueError, KeyError, TypeError):
        hashes = {}
    return {c.doc: hashes.get(c.doc, "") for c in answer.citations + answer.related}


def article_version(kept: Kept, index, versions) -> str:
    """The index version a kept answer's article links open: its own while that version is kept
    (store.KEEP_VERSIONS), else the current one when none of its articles has changed since."""
    own = kept.answer.index_version
    if versions.has(own) or index is None or changes(kept, index):
        return own
    return index.version


def changes(kept: Kept, index) -> list[str]:
    """What has changed since the answer, in the current index: articles edited or removed."""
    if index is None or index.version == kept.answer.index_version:
        return []
    now = document_hashes(index.manifest)
    titles = {c.doc: c.title for c in kept.answer.citations + kept.answer.related}
    notes = []
    for doc, sha in kept.documents.items():
        if doc not in now:
            notes.append(f"“{titles.get(doc, doc)}” is no longer among the articles.")
        elif now[doc] != sha:
            notes.append(f"“{titles.get(doc, doc)}” has changed since this answer: the passages are shown as they "
                         "were then; ask again for an answer from the article as it is now.")
    return notes
