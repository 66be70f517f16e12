"""Users, API tokens and login sessions of a shared deployment, in one SQLite file
(CQQA_USERS_FILE, default `users/users.sqlite3`, mode 0600) that every replica of `cqqa serve`
opens: a login on one replica is a login on all, a logout or a password change ends the session
on all, and failed logins are counted together.

- **Passwords** are stored as argon2id hashes (argon2-cffi's defaults: 64 MiB, 3 passes).
- **API tokens** (`cqqa users token NAME`) and **session ids** are 256 random bits, shown once and
  stored as their SHA-256 only: a copy of the file lets no one in.
- **Failed logins** are slowed per user name and address: after FREE_FAILURES, each next try must
  wait twice as long as the last (1, 2, 4 … s, at most MAX_WAIT); after LOCK_AFTER failures in a
  row for a name, from any address, the user is locked until an admin runs `cqqa users unlock`.
  A name that does not exist is answered as slowly as one that does.
- **Sessions** last `session_hours` (CQQA_SESSION_HOURS, default 12) from login; logout ends one,
  a password change ends the user's others, removing or locking a user ends them all.
Roles (ROLES, weakest first): reader asks; editor also adds articles; admin (cqqa users) too.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cqqa.errors import CqqaError

ROLES = ("reader", "editor", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
FREE_FAILURES = 3  # failed logins (per name and address) before the next one must wait
MAX_WAIT = 900  # seconds
LOCK_AFTER = 20  # failed logins in a row for one name (any address) lock it
TOKEN_PREFIX = "cqqa_"
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created REAL NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, hash TEXT UNIQUE NOT NULL, name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label TEXT NOT NULL, created REAL NOT NULL, used REAL, revoked REAL);
CREATE TABLE IF NOT EXISTS failures (
    name TEXT NOT NULL, address TEXT NOT NULL, count INTEGER NOT NULL, last REAL NOT NULL,
    PRIMARY KEY (name, address));
"""


class AccessError(CqqaError):
    pass


class LoginRefused(AccessError):
    """A login that did not succeed: `status` 401 (wrong name or password), 429 (too soon after
    failures: `retry_after` seconds) or 423 (locked)."""

    def __init__(self, message: str, status: int = 401, retry_after: int = 0):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created: float = 0.0
    locked: bool = False

    def may(self, role: str) -> bool:
        """Whether this user has `role` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    label: str
    created: float
    used: float | None  # when last used
    revoked: float | None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def wait_after(failures: int) -> int:
    """Seconds the next login for a name from an address must wait after `failures` in a row."""
    return 0 if failures < FREE_FAILURES else min(2 ** (failures - FREE_FAILURES), MAX_WAIT)


def checked(value: str, ok: bool, why: str) -> str:
    if not ok:
        raise AccessError(why)
    return value


def checked_name(name: str) -> str:
    return checked(name, bool(NAME.match(name or "")), f"{name!r} is not a user name: use 1-64 letters, digits, "
                   "'.', '_', '@' or '-', starting with a letter or digit")


def checked_password(password: str) -> str:
    return checked(password, len(password) >= MIN_PASSWORD,
                   f"the password is too short: use at least {MIN_PASSWORD} characters")


def checked_role(role: str) -> str:
    return checked(role, role in ROLES, f"unknown role {role!r}: use one of {', '.join(ROLES)}")


class Users:
    def __init__(self, path: Path, session_hours: float = 12, clock=time.time):
        from argon2 import PasswordHasher

        self.path, self.session_seconds, self.clock = Path(path), session_hours * 3600, clock
        self.hasher = PasswordHasher()  # argon2id
        self._dummy = ""  # a hash to verify against for names that do not exist (same time)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # 0600 before SQLite writes to it
        except OSError as exc:
            raise AccessError(f"cannot keep users in {self.path}: {exc.strerror}; set CQQA_USERS_FILE to a "
                              "writable file") from None
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self):
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                with db:
                    yield db
        except sqlite3.DatabaseError as exc:
            raise AccessError(f"cannot read the users file {self.path}: {exc}; restore it from a backup, or move "
                              "it away and create the users again") from None


    def exist(self) -> bool:
        """Whether any user exists (then every route needs a login or a token)."""
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def add(self, name: str, password: str, role: str = "reader") -> User:
        name, role = checked_name(name), checked_role(role)
        hashed = self.hasher.hash(checked_password(password))
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccessError(f"there is already a user {name!r}; `cqqa users passwd {name}` sets a new password")
            db.execute("INSERT INTO users (name, role, hash, created) VALUES (?, ?, ?, ?)",
                       (name, role, hashed, self.clock()))
        return User(name, role, self.clock())

    def get(self, name: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT name, role, created, locked FROM users WHERE name = ?", (name,)).fetchone()
        return User(row[0], row[1], row[2], bool(row[3])) if row else None

    def _existing(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise AccessError(f"there is no user {name!r}; `cqqa users list` shows them")
        return user

    def listing(self) -> list[tuple[User, int, int]]:
        """Every user with their number of open sessions and of live tokens."""
        now = self.clock()
        with self._db() as db:
            rows = db.execute(
                "SELECT u.name, u.role, u.created, u.locked, "
                "(SELECT COUNT(*) FROM sessions s WHERE s.name = u.name AND s.expires > ?), "
                "(SELECT COUNT(*) FROM tokens t WHERE t.name = u.name AND t.revoked IS NULL) "
                "FROM users u ORDER BY u.name", (now,)).fetchall()
        return [(User(r[0], r[1], r[2], bool(r[3])), r[4], r[5]) for r in rows]

    def remove(self, name: str) -> None:
        self._existing(name)
        with self._db() as db:  # its sessions and tokens go with it (ON DELETE CASCADE)
            db.execute("DELETE FROM users WHERE name = ?", (name,))
            db.execute("DELETE FROM failures WHERE name = ?", (name,))

    def set_role(self, name: str, role: str) -> None:
        self._existing(name)
        with self._db() as db:
            db.execute("UPDATE users SET role = ? WHERE name = ?", (checked_role(role), name))

    def passwd(self, name: str, password: str, keep_session: str = "") -> int:
        """A new password; ends the user's sessions but `keep_session` (the one that changed it).
        The number of sessions ended."""
        self._existing(name)
        hashed = self.hasher.hash(checked_password(password))
        with self._db() as db:
            db.execute("UPDATE users SET hash = ? WHERE name = ?", (hashed, name))
            return db.execute("DELETE FROM sessions WHERE name = ? AND id != ?",
                              (name, digest(keep_session) if keep_session else "")).rowcount

    def unlock(self, name: str) -> None:
        self._existing(name)
        with self._db() as db:
            db.execute("UPDATE users SET locked = 0, failures = 0 WHERE name = ?", (name,))
            db.execute("DELETE FROM failures WHERE name = ?", (name,))


    def new_token(self, name: str, label: str = "") -> tuple[str, str]:
        """A new API token for `name`: (its id, the token itself, shown this once)."""
        self._existing(name)
        secret, token_id = TOKEN_PREFIX + secrets.token_urlsafe(32), secrets.token_hex(4)
        with self._db() as db:
            db.execute("INSERT INTO tokens (id, hash, name, label, created) VALUES (?, ?, ?, ?, ?)",
                       (token_id, digest(secret), name, label[:100], self.clock()))
        return token_id, secret

    def tokens(self, name: str | None = None) -> list[Token]:
        with self._db() as db:
            rows = db.execute("SELECT id, name, label, created, used, revoked FROM tokens WHERE ? IS NULL OR name = ? "
                              "ORDER BY created", (name, name)).fetchall()
        return [Token(*row) for row in rows]

    def revoke(self, token_id: str) -> Token:
        with self._db() as db:
            if db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                          (self.clock(), token_id)).rowcount != 1:
                raise AccessError(f"there is no live token {token_id!r}; `cqqa users tokens` lists them")
        return next(t for t in self.tokens() if t.id == token_id)

    def by_token(self, secret: str) -> User | None:
        """The user an API token belongs to (None: unknown or revoked token, or locked user)."""
        with self._db() as db:
            row = db.execute("SELECT u.name, u.role, u.created, t.id FROM tokens t JOIN users u ON u.name = t.name "
                             "WHERE t.hash = ? AND t.revoked IS NULL AND u.locked = 0", (digest(secret),)).fetchone()
            if row:
                db.execute("UPDATE tokens SET used = ? WHERE id = ?", (self.clock(), row[3]))
        return User(row[0], row[1], row[2]) if row else None


    def login(self, name: str, password: str, address: str) -> tuple[User, str]:
        """(the user, a new session id) for the right name and password; LoginRefused otherwise.
        Tries that come too soon after failures are refused before the password is looked at."""
        from argon2.exceptions import VerifyMismatchError, VerificationError, InvalidHashError

        now = self.clock()
        with self._db() as db:
            row = db.execute("SELECT count, last FROM failures WHERE name = ? AND address = ?",
                             (name, address)).fetchone()
            user = db.execute("SELECT hash, role, created, locked FROM users WHERE name = ?", (name,)).fetchone()
        if row and (wait := row[1] + wait_after(row[0]) - now) > 0:
            raise LoginRefused(f"too many failed logins for {name!r} from {address}: try again in {int(wait) + 1} s",
                               429, int(wait) + 1)
        if user and user[3]:
            raise LoginRefused(f"{name!r} is locked after {LOCK_AFTER} failed logins; an admin can lift it with "
                               f"`cqqa users unlock {name}`", 423)
        try:
            self._dummy = self._dummy or self.hasher.hash(secrets.token_hex(16))  # an unknown name costs the same
            self.hasher.verify(user[0] if user else self._dummy, password)
            ok = user is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self._failed(name, address, now, known=user is not None)
            raise LoginRefused("wrong user name or password")
        secret = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM failures WHERE name = ?", (name,))
            db.execute("UPDATE users SET failures = 0 WHERE name = ?", (name,))
            db.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (digest(secret), name, now, now + self.session_seconds))
        return User(name, user[1], user[2]), secret

    def _failed(self, name: str, address: str, now: float, known: bool) -> None:
        with self._db() as db:
            db.execute("INSERT INTO failures VALUES (?, ?, 1, ?) ON CONFLICT (name, address) DO UPDATE SET "
                       "count = count + 1, last = excluded.last", (name, address, now))
            if known:
                db.execute("UPDATE users SET failures = failures + 1, locked = (failures + 1 >= ?) WHERE name = ?",
                           (LOCK_AFTER, name))
                db.execute("DELETE FROM sessions WHERE name = ? AND (SELECT locked FROM users WHERE name = ?)",
                           (name, name))

    def by_session(self, secret: str) -> User | None:
        """The user a session id belongs to, while it lasts."""
        if not secret:
            return None
        with self._db() as db:
            row = db.execute("SELECT u.name, u.role, u.created FROM sessions s JOIN users u ON u.name = s.name "
                             "WHERE s.id = ? AND s.expires > ? AND u.locked = 0",
                             (digest(secret), self.clock())).fetchone()
        return User(*row) if row else None

    def logout(self, secret: str) -> bool:
        with self._db() as db:
            return db.execute("DELETE FROM sessions WHERE id = ?", (digest(secret),)).rowcount == 1
