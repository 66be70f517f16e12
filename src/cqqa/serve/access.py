"""Who may use the server: with no users (serve/users.py) everyone who reaches it (as on loopback
by default); once one user exists, every route needs a login (the chat, its pages) or an API token
(`Authorization: Bearer cqqa_…`), and adding or replacing articles needs the editor role.

    /login      the login form (GET) and the login (POST: name, password, next)
    /logout     ends the session on the server (every replica) and clears the cookie

A request without a valid session or token is sent to /login when a browser navigates, and gets
401 otherwise (API calls, the chat's own requests). A reader who tries to add an article gets 403.
The session cookie is `HttpOnly; SameSite=Strict; Path=/`, and `Secure` when the server is behind
HTTPS (`--behind-https`, or the scheme a trusted proxy forwards: uvicorn's `--forwarded-allow-ips`,
127.0.0.1 by default). The logged-in user is put in the request's scope (`user_of`), so the chat
files each conversation under its user.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from cqqa.serve.audit import Audit
from cqqa.serve.render import escape
from cqqa.serve.users import LoginRefused, User, Users

COOKIE = "cqqa_session"
PUBLIC = frozenset({"/login", "/logout"})
EDITOR_PATHS = ("/add", "/api/articles")  # adding or replacing an article (uploads.py)
SCOPE_KEY = "cqqa.user"


def header_map(headers) -> dict[str, str]:
    """Headers as a dict of lower-cased names, from an ASGI scope's list or a request's mapping."""
    if isinstance(headers, list):
        return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}
    if not hasattr(headers, "items"):  # gr.Request gives a kept request's headers as an object
        headers = vars(headers)
    return {str(k).lower(): str(v) for k, v in headers.items()}


def cookie_value(headers: dict[str, str], name: str = COOKIE) -> str:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no session
        return ""
    return jar[name].value if name in jar else ""


class Access:
    """The users file, looked at as requests come (users may be added while the server runs)."""

    def __init__(self, users_file: Path, audit: Audit, session_hours: int = 12, behind_https: bool = False):
        self.users_file, self.audit = Path(users_file), audit
        self.session_hours, self.behind_https = session_hours, behind_https
        self._users: Users | None = None
        self._checked, self._on = 0.0, False

    @property
    def users(self) -> Users:
        if self._users is None:
            self._users = Users(self.users_file, self.session_hours)
        return self._users

    def on(self) -> bool:
        """Whether logins are required: a user exists (looked at again every 2 s)."""
        now = time.monotonic()
        if now - self._checked > 2:
            self._on = self.users_file.exists() and self.users.exist()
            self._checked = now
        return self._on

    def user(self, headers: dict[str, str]) -> User | None | bool:
        """The user a request is made by (its Bearer token, else its session cookie); None when it has
        neither; False for a token that is not valid (refused even with a cookie)."""
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return self.users.by_token(auth[7:].strip()) or False
        return self.users.by_session(cookie_value(headers))

    def who(self, request) -> User | None:
        """The logged-in user of a request (a Starlette request or Gradio's gr.Request), or None:
        the one the gate found, else (a request Gradio kept without its scope) from its headers."""
        if request is None or not self.on():
            return None
        found = user_of(request)
        if found is None and getattr(request, "headers", None) is not None:
            found = self.user(header_map(request.headers)) or None
        return found

    def owner(self, request) -> str | None:
        """Whose conversations a request may see: "user:NAME" when logins are on, else None (the
        chat then files them under the browser's key)."""
        user = self.who(request)
        return f"user:{user.name}" if user else None

    def cookie(self, secret: str, secure: bool, max_age: int | None = None) -> str:
        age = self.session_hours * 3600 if max_age is None else max_age
        return (f"{COOKIE}={secret}; Path=/; Max-Age={age}; HttpOnly; SameSite=Strict"
                + ("; Secure" if secure else ""))


def user_of(request) -> User | None:
    """The logged-in user the gate put in a request's scope (a Starlette request, or Gradio's
    gr.Request around one), or None."""
    from starlette.requests import HTTPConnection

    if request is not None and not isinstance(request, HTTPConnection):
        request = vars(request).get("request")  # gr.Request: its attributes turn dicts into objects
    return request.scope.get(SCOPE_KEY) if isinstance(request, HTTPConnection) else None


def address_of(scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


class AccessGate:
    """ASGI middleware: a login or a token for every route once users exist; the editor role for
    adding articles. Inside the Guard (guard.py), which refuses foreign hosts and sites first."""

    def __init__(self, app, access: Access):
        self.app, self.access = app, access

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or not self.access.on():
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        headers = header_map(list(scope.get("headers") or []))
        user = self.access.user(headers)
        if path in PUBLIC:
            scope[SCOPE_KEY] = user or None
            return await self.app(scope, receive, send)
        if not user:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            if method in ("GET", "HEAD") and not path.startswith(("/api/", "/gradio_api/")) \
                    and "text/html" in headers.get("accept", ""):
                target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
                return await respond(send, 303, b"", [(b"location", f"/login?next={quote(target)}".encode())])
            why = ("this API token is not valid (revoked, or mistyped)" if user is False else
                   "log in first (open / in a browser), or send Authorization: Bearer TOKEN "
                   "(an admin makes one with `cqqa users token NAME`)")
            return await respond(send, 401, why, [(b"www-authenticate", b'Bearer realm="cqqa"')])
        if path.startswith(EDITOR_PATHS) and not user.may("editor"):
            return await respond(send, 403, f"{user.name} is a reader: adding or replacing articles needs the "
                                 "editor role (an admin: `cqqa users role NAME editor`)")
        scope[SCOPE_KEY] = user
        return await self.app(scope, receive, send)


async def respond(send, status: int, body, headers=()) -> None:
    import json

    from cqqa.serve.guard import with_security_headers

    if isinstance(body, str):
        body, headers = json.dumps({"error": body}).encode(), [(b"content-type", b"application/json"), *headers]
    headers = with_security_headers([*headers, (b"content-length", str(len(body)).encode()),
                                     (b"cache-control", b"no-store")])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this server only."""
    parts = urlsplit(target or "/")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


PAGE_STYLE = """body { font-family: "Noto Sans CJK SC", sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; } label { display: block; margin: .8rem 0 .2rem; } input { width: 100%; padding: .4rem; box-sizing: border-box; }
button { margin-top: 1rem; padding: .5rem 1.2rem; } .error { color: #a00; } .hint { color: #666; font-size: .9rem; }"""
LOGIN_FORM = """<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="cqqa-login-name">User name</label><input id="cqqa-login-name" name="name" autocomplete="username" required autofocus>
<label for="cqqa-login-password">Password</label><input id="cqqa-login-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="cqqa-login-submit">Log in</button></form>"""


def page(title: str, body: str, status: int = 200, headers: dict | None = None):
    """A login or logout page: nothing runs on it; its form posts only to this server."""
    from cqqa.serve.guard import text_page

    return text_page(f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
                     f"<style>{PAGE_STYLE}</style></head><body>{body}</body></html>", status,
                     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
                     # same-origin, not no-referrer: with no-referrer a browser posts the form with
                     # "Origin: null", which the Guard cannot tell from a foreign page
                     {"Cache-Control": "no-store", "Referrer-Policy": "same-origin", **(headers or {})})


def login_page(site_title: str, next_path: str = "/", error: str = "", status: int = 200, headers=None):
    said = f'<p class="error" id="cqqa-login-error">{escape(error)}</p>' if error else ""
    return page(f"Log in · {site_title}", f"<h1>{escape(site_title)}</h1>{said}"
                f"{LOGIN_FORM.format(next=escape(safe_next(next_path)))}"
                '<p class="hint">No account? Ask the person who runs this server.</p>', status, headers)


def add_login_routes(app, access: Access, site_title) -> None:
    """/login and /logout. `site_title()` names the deployment on the login page."""
    from fastapi.responses import RedirectResponse
    from starlette.concurrency import run_in_threadpool

    def secure(request: Request) -> bool:
        return access.behind_https or request.url.scheme == "https"

    @app.get("/login")
    def login_form(request: Request, next: str = "/"):
        if not access.on():
            return RedirectResponse("/", status_code=303)
        return login_page(site_title(), next)

    @app.post("/login")
    async def login(request: Request):
        form = await request.form()
        name, password = str(form.get("name", ""))[:64], str(form.get("password", ""))[:1024]
        target, address = safe_next(str(form.get("next", "/"))), address_of(request.scope)
        try:  # argon2 takes ~0.1 s: off the event loop
            user, secret = await run_in_threadpool(access.users.login, name, password, address)
        except LoginRefused as exc:
            access.audit.write(name, "login failed", address, status=exc.status, why=str(exc))
            extra = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            return login_page(site_title(), target, str(exc), exc.status, extra)
        access.audit.write(user.name, "login", address)
        response = RedirectResponse(target, status_code=303)
        response.headers["Set-Cookie"] = access.cookie(secret, secure(request))
        response.headers["Cache-Control"] = "no-store"
        return response

    def logged_out(request: Request):
        secret = cookie_value(header_map(request.headers))
        user = access.users.by_session(secret) if secret else None
        if secret:
            access.users.logout(secret)
        if user:
            access.audit.write(user.name, "logout", address_of(request.scope))
        response = RedirectResponse("/login", status_code=303)
        response.headers["Set-Cookie"] = access.cookie("", secure(request), max_age=0)
        return response

    @app.post("/logout")
    def logout(request: Request):
        return logged_out(request)

    @app.get("/logout")
    def logout_link(request: Request):
        """The chat's "Log out" link: from this server's own page (or typed), it logs out at once; a
        link on another site only shows a button."""
        if request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
            return logged_out(request)
        return page("Log out", '<form method="post" action="/logout"><button type="submit">Log out</button></form>')
