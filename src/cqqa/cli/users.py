"""`cqqa users`: the users, roles and API tokens of a shared `cqqa serve` (serve/users.py)."""

from __future__ import annotations

import getpass
import os
import sys
import time
from pathlib import Path

from cqqa.cli.common import Parents, err, print_json
from cqqa.config import Settings
from cqqa.errors import CqqaError
from cqqa.serve.users import ROLES


def _open(args):
    from cqqa.serve.audit import Audit
    from cqqa.serve.users import Users

    settings = Settings.from_env()
    path = Path(args.file) if args.file else settings.users_file
    audit = Audit(settings.audit_file or path.parent / "audit.jsonl")
    return Users(path, settings.session_hours), audit, path


def _who() -> str:
    try:
        return f"{getpass.getuser()} (cqqa users)"
    except (KeyError, OSError):
        return f"uid {os.getuid()} (cqqa users)"


def _password(args, name: str) -> str:
    """The new password: a line on stdin with --password-stdin, else asked twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CqqaError("no terminal to ask the password at: pipe it in with --password-stdin")
    first = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise CqqaError("the two passwords differ; nothing was changed")
    return first


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


def cmd_users(args) -> int:
    users, audit, path = _open(args)
    action, who = args.action, _who()
    if action == "add":
        user = users.add(args.name, _password(args, args.name), args.role)
        audit.write(who, "user added", name=user.name, role=user.role)
        err(f"added {user.name} ({user.role}) to {path}")
    elif action == "list":
        rows = users.listing()
        if args.json:
            print_json([{"name": u.name, "role": u.role, "created": u.created, "locked": u.locked,
                         "sessions": s, "tokens": t} for u, s, t in rows])
        elif not rows:
            err(f"no users in {path}: the server lets in everyone who can reach it "
                "(`cqqa users add NAME --role admin` creates the first)")
        for user, sessions, tokens in rows if not args.json else ():
            print(f"{user.name}\t{user.role}\tsince {_when(user.created)}\t{sessions} session(s)\t{tokens} token(s)"
                  + ("\tLOCKED (cqqa users unlock)" if user.locked else ""))
    elif action == "remove":
        users.remove(args.name)
        audit.write(who, "user removed", name=args.name)
        err(f"removed {args.name}: their sessions and tokens no longer work")
    elif action == "passwd":
        ended = users.passwd(args.name, _password(args, args.name))
        audit.write(who, "password changed", name=args.name, sessions_ended=ended)
        err(f"new password for {args.name}; {ended} session(s) ended")
    elif action == "role":
        users.set_role(args.name, args.role)
        audit.write(who, "role changed", name=args.name, role=args.role)
        err(f"{args.name} is now {args.role}")
    elif action == "unlock":
        users.unlock(args.name)
        audit.write(who, "user unlocked", name=args.name)
        err(f"unlocked {args.name}")
    elif action == "token":
        token_id, secret = users.new_token(args.name, args.label or "")
        audit.write(who, "token made", name=args.name, token=token_id, label=args.label or "")
        err(f"API token {token_id} for {args.name} (shown this once; send it as Authorization: Bearer TOKEN; "
            f"`cqqa users revoke {token_id}` ends it):")
        print(secret)
    elif action == "tokens":
        for t in users.tokens(args.name):
            print(f"{t.id}\t{t.name}\t{t.label or '-'}\tmade {_when(t.created)}\tused {_when(t.used)}"
                  + (f"\trevoked {_when(t.revoked)}" if t.revoked else ""))
    elif action == "revoke":
        token = users.revoke(args.token_id)
        audit.write(who, "token revoked", name=token.name, token=token.id)
        err(f"revoked token {token.id} of {token.name}")
    return 0


def add_parsers(sub, parents: Parents) -> None:
    users = sub.add_parser(
        "users", help="users, roles and API tokens for a shared server",
        description="Who may use `cqqa serve`. With no users, everyone who can reach the server may use it (and "
                    "`cqqa serve` refuses to listen beyond this machine). Once a user exists, the chat needs a "
                    "login and /api/* an API token (Authorization: Bearer TOKEN). Roles: reader (asks), editor "
                    "(also adds and replaces articles), admin. Users live in CQQA_USERS_FILE (default "
                    "users/users.sqlite3, mode 0600; replicas share it); every change is written to the audit log "
                    "beside it (audit.jsonl).")
    users.add_argument("--file", metavar="FILE", help="the users file (default $CQQA_USERS_FILE or users/users.sqlite3)")
    actions = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    password = {"action": "store_true", "dest": "password_stdin",
                "help": "read the password from the first line of standard input instead of asking"}

    add = actions.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="reader", help="reader (default), editor or admin")
    add.add_argument("--password-stdin", **password)
    listing = actions.add_parser("list", help="the users, their roles, open sessions and tokens")
    listing.add_argument("--json", action="store_true")
    actions.add_parser("remove", help="remove a user; their sessions and tokens stop working").add_argument("name")
    passwd = actions.add_parser("passwd", help="set a new password; ends the user's sessions")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", **password)
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    actions.add_parser("unlock", help="lift the lock-out after too many failed logins").add_argument("name")
    token = actions.add_parser("token", help="make an API token for a user (printed once)")
    token.add_argument("name")
    token.add_argument("--label", help="what the token is for (shown by `tokens`)")
    actions.add_parser("tokens", help="list API tokens (not the tokens themselves)").add_argument("name", nargs="?")
    actions.add_parser("revoke", help="end an API token").add_argument("token_id", metavar="TOKEN_ID")
    users.set_defaults(func=cmd_users)
