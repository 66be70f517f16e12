"""`/password`: a logged-in user changes their own password. The current one is asked first (and
slowed like a login after failures: it is checked by a login); the change ends the user's other
sessions, on every replica, and keeps this one. An audit line says who changed it."""

from __future__ import annotations

from starlette.requests import Request

from cqqa.serve.access import Access, address_of, cookie_value, header_map, page, user_of
from cqqa.serve.render import escape
from cqqa.serve.users import AccessError, LoginRefused

FORM = """<form method="post" action="/password">
<label for="cqqa-password-current">Current password</label><input id="cqqa-password-current" name="current" type="password" autocomplete="current-password" required autofocus>
<label for="cqqa-password-new">New password (at least 8 characters)</label><input id="cqqa-password-new" name="new" type="password" autocomplete="new-password" required>
<label for="cqqa-password-again">New password again</label><input id="cqqa-password-again" name="again" type="password" autocomplete="new-password" required>
<button type="submit" id="cqqa-password-submit">Change the password</button></form>
<p class="hint">Your other sessions (other browsers, other devices) are logged out; this one stays.</p>
<p><a href="/">← back to the chat</a></p>"""


def password_page(name: str, said: str = "", status: int = 200, error: bool = True):
    note = f'<p class="{"error" if error else "hint"}" id="cqqa-password-said">{escape(said)}</p>' if said else ""
    return page("Change your password", f"<h1>Change the password of {escape(name)}</h1>{note}{FORM}", status)


def add_account_routes(app, access: Access) -> None:
    from starlette.concurrency import run_in_threadpool

    @app.get("/password")
    def password_form(request: Request):
        user = user_of(request)
        if user is None:  # no users on this server: nothing to change
            return page("No users", "<p>This server has no users: there is no password to change.</p>", 404)
        return password_page(user.name)

    @app.post("/password")
    async def change_password(request: Request):
        user = user_of(request)
        if user is None:
            return page("No users", "<p>This server has no users: there is no password to change.</p>", 404)
        form = await request.form()
        current, new, again = (str(form.get(k, ""))[:1024] for k in ("current", "new", "again"))
        address = address_of(request.scope)
        if new != again:
            return password_page(user.name, "the two new passwords differ; nothing was changed", 400)
        try:  # the current password is checked as a login is (back-off included), then that check's session ends
            _, check = await run_in_threadpool(access.users.login, user.name, current, address)
            access.users.logout(check)
            ended = await run_in_threadpool(access.users.passwd, user.name, new,
                                            cookie_value(header_map(request.headers)))
        except LoginRefused as exc:
            access.audit.write(user.name, "password change refused", address, why=str(exc))
            return password_page(user.name, f"the current password is not right ({exc})", exc.status)
        except AccessError as exc:
            return password_page(user.name, str(exc), 400)
        access.audit.write(user.name, "password changed", address, sessions_ended=ended)
        return password_page(user.name, f"Changed. {ended} other session(s) logged out.", 200, error=False)
