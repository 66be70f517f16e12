"""Users and access (serve/users.py, serve/access.py, cli/users.py): the users file, logins,
tokens, roles and conversations per user, against the real app in-process (FastAPI, the Gradio
chat, the Guard and the gate; a real index on disk built with the fake embedder). The same probes
against a `cqqa serve` process, and in the browser: test_access_web.py."""

from __future__ import annotations

import dataclasses
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from fakes import FakeEmbedder
from helpers import fake_corpus

from cqqa.serve.audit import Audit
from cqqa.serve.users import FREE_FAILURES, LOCK_AFTER, AccessError, LoginRefused, Users, wait_after

ARTICLES = {"sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n"}
PASSWORD = "correct horse 1"

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def make_app(tmp_path, host="127.0.0.1", users=(("ann", "reader"), ("ed", "editor")), behind_https=False):
    from fastapi.testclient import TestClient

    from cqqa.answer.assistant import Assistant
    from cqqa.serve.web import Startup, build_app

    tmp_path.mkdir(parents=True, exist_ok=True)
    settings = fake_corpus(tmp_path, ARTICLES)
    settings = dataclasses.replace(settings, conversations_file=tmp_path / "conv" / "c.sqlite3",
                                   feedback_file=tmp_path / "fb.jsonl", behind_https=behind_https)
    for name, role in users:
        Users(settings.users_file).add(name, PASSWORD, role)
    startup = Startup(lambda: Assistant(settings, embedder=FakeEmbedder(), reader=False)).start()
    app = build_app(startup, settings, host=host, allowed_hosts=("testserver",))
    return TestClient(app, follow_redirects=False), settings


def login(client, name="ann", password=PASSWORD, next_path="/"):
    return client.post("/login", data={"name": name, "password": password, "next": next_path},
                       headers={"Origin": "http://testserver"})


# ---- the users file


def test_passwords_are_argon2id_hashes_and_tokens_are_kept_only_as_digests_in_a_0600_file(tmp_path):
    users = Users(tmp_path / "u" / "users.sqlite3")
    users.add("ann", PASSWORD, "reader")
    token_id, token = users.new_token("ann", "script")
    assert stat.S_IMODE((tmp_path / "u" / "users.sqlite3").stat().st_mode) == 0o600
    raw = (tmp_path / "u" / "users.sqlite3").read_bytes()
    assert PASSWORD.encode() not in raw and token.encode() not in raw
    with sqlite3.connect(tmp_path / "u" / "users.sqlite3") as db:
        (hashed,) = db.execute("SELECT hash FROM users WHERE name = 'ann'").fetchone()
    assert hashed.startswith("$argon2id$")
    assert users.by_token(token).name == "ann"
    users.revoke(token_id)
    assert users.by_token(token) is None


@pytest.mark.parametrize("name, password, role, said", [
    ("ann", "short", "reader", "too short"),
    ("../x", PASSWORD, "reader", "not a user name"),
    ("ann", PASSWORD, "owner", "unknown role"),
])
def test_bad_users_are_refused_with_the_reason(tmp_path, name, password, role, said):
    with pytest.raises(AccessError, match=said):
        Users(tmp_path / "users.sqlite3").add(name, password, role)


def test_failed_logins_from_many_addresses_lock_the_user_until_an_admin_unlocks(tmp_path):
    users = Users(tmp_path / "users.sqlite3")
    users.add("ann", PASSWORD)
    _, session = users.login("ann", PASSWORD, "10.0.9.9")
    for attempt in range(LOCK_AFTER):  # one try per address: never slowed, still counted for the name
        with pytest.raises(LoginRefused) as refused:
            users.login("ann", "wrong password", f"10.0.1.{attempt}")
        assert refused.value.status == 401
    with pytest.raises(LoginRefused) as locked:
        users.login("ann", PASSWORD, "10.0.2.1")
    assert locked.value.status == 423 and "cqqa users unlock ann" in str(locked.value)
    assert users.by_session(session) is None  # a locked user's sessions end too
    users.unlock("ann")
    assert users.login("ann", PASSWORD, "10.0.2.1")[0].name == "ann"


def test_the_wait_doubles_from_one_address_and_another_address_is_not_slowed(tmp_path):
    clock = Clock()
    users = Users(tmp_path / "users.sqlite3", clock=clock)
    users.add("ann", PASSWORD)
    for _ in range(FREE_FAILURES + 2):
        clock.now += MAXWAIT_STEP
        with pytest.raises(LoginRefused):
            users.login("ann", "wrong", "10.0.0.9")
    with pytest.raises(LoginRefused) as soon:
        users.login("ann", PASSWORD, "10.0.0.9")
    assert soon.value.status == 429 and soon.value.retry_after == wait_after(FREE_FAILURES + 2) + 1 - 0
    assert [wait_after(n) for n in range(FREE_FAILURES, FREE_FAILURES + 4)] == [1, 2, 4, 8]
    assert users.login("ann", PASSWORD, "10.0.0.10")[0].name == "ann"  # the owner elsewhere gets in


MAXWAIT_STEP = 10_000  # seconds between tries in the test above: every wait has passed


def test_an_unknown_name_is_refused_like_a_wrong_password_and_slowed_alike(tmp_path):
    clock = Clock()
    users = Users(tmp_path / "users.sqlite3", clock=clock)
    users.add("ann", PASSWORD)
    said = set()
    for name in ("ann", "nobody"):
        for _ in range(FREE_FAILURES + 1):
            with pytest.raises(LoginRefused) as refused:
                users.login(name, "wrong", "10.0.0.9")
            said.add((refused.value.status, str(refused.value).replace(name, "NAME")))
    assert said == {(401, "wrong user name or password"), (429, "too many failed logins for 'NAME' from 10.0.0.9: "
                                                                 "try again in 2 s")}


def test_sessions_expire_and_a_password_change_ends_the_others(tmp_path):
    clock = Clock()
    users = Users(tmp_path / "users.sqlite3", session_hours=1, clock=clock)
    users.add("ann", PASSWORD)
    _, first = users.login("ann", PASSWORD, "a")
    _, second = users.login("ann", PASSWORD, "b")
    assert users.passwd("ann", "another password", keep_session=second) == 1
    assert users.by_session(first) is None and users.by_session(second).name == "ann"
    clock.now += 3601
    assert users.by_session(second) is None


# ---- the server (in-process)


def test_with_users_every_route_needs_a_login_or_a_token(tmp_path):
    client, _ = make_app(tmp_path)
    for path in ("/api/ask?q=销量", "/api/status", "/gradio_api/info", "/config", "/answer/" + "0" * 32,
                 "/article/v/sales", "/api/articles/x"):
        reply = client.get(path)
        assert reply.status_code == 401, path
        assert reply.headers["www-authenticate"].startswith("Bearer")
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
    assert "Log in" in client.get("/login").text


def test_a_login_sets_a_strict_httponly_cookie_that_logout_ends_on_the_server(tmp_path):
    client, settings = make_app(tmp_path)
    reply = login(client, next_path="/answer/x")
    assert reply.status_code == 303 and reply.headers["location"] == "/answer/x"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    secret = cookie.split(";")[0].split("=", 1)[1]
    assert client.get("/api/status").status_code in (200, 503)  # logged in (503: still loading)
    assert client.get("/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303
    assert Users(settings.users_file).by_session(secret) is None  # gone on the server, not only in the browser
    client.cookies.set("cqqa_session", secret)  # a copy of the old cookie does not come back to life
    assert client.get("/api/status").status_code == 401
    whats = [line["what"] for line in Audit(settings.audit_path).lines()]
    assert whats == ["login", "logout"]


def test_behind_https_the_cookie_is_secure(tmp_path):
    client, _ = make_app(tmp_path, behind_https=True)
    cookie = login(client).headers["set-cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie


def test_changing_one_s_password_ends_the_other_sessions_and_keeps_this_one(tmp_path):
    from fastapi.testclient import TestClient

    client, settings = make_app(tmp_path)
    other = TestClient(client.app, follow_redirects=False)
    login(client), login(other)
    change = {"current": PASSWORD, "new": "a brand new one", "again": "a brand new one"}
    origin = {"Origin": "http://testserver"}
    differ = client.post("/password", data=change | {"again": "something else"}, headers=origin)
    assert differ.status_code == 400 and "differ" in differ.text
    wrong = client.post("/password", data=change | {"current": "not it at all"}, headers=origin)
    assert wrong.status_code == 401 and "not right" in wrong.text
    changed = client.post("/password", data=change, headers=origin)
    assert changed.status_code == 200 and "1 other session(s) logged out" in changed.text
    assert client.get("/api/status").status_code != 401 and other.get("/api/status").status_code == 401
    assert login(TestClient(client.app, follow_redirects=False), password="a brand new one").status_code == 303
    whats = [line["what"] for line in Audit(settings.audit_path).lines()]
    assert "password change refused" in whats and "password changed" in whats


@pytest.mark.integration  # starts a process
def test_a_reader_cannot_add_an_article_an_editor_can_and_it_is_audited(tmp_path):
    client, settings = make_app(tmp_path)
    login(client, "ann")
    refused = client.post("/api/articles", files={"file": ("new.txt", "标题\n正文。".encode())})
    assert refused.status_code == 403 and "editor" in refused.json()["error"]
    assert client.get("/add").status_code == 403
    client.cookies.clear()
    login(client, "ed")
    accepted = client.post("/api/articles", files={"file": ("new.txt", "新文章标题\n新文章的正文。".encode())},
                           headers={"Origin": "http://testserver"})
    assert accepted.status_code == 202, accepted.text
    added = [line for line in Audit(settings.audit_path).lines() if line["what"] == "article added"]
    assert added and added[0]["who"] == "ed" and added[0]["detail"]["file"] == "new.txt"


def test_api_tokens_answer_and_a_revoked_one_gets_401(tmp_path):
    client, settings = make_app(tmp_path)
    users = Users(settings.users_file)
    token_id, token = users.new_token("ann")
    reply = client.get("/api/ask", params={"q": "长安汽车前三季度销量多少"}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.json()["conversation"]
    users.revoke(token_id)
    gone = client.get("/api/ask", params={"q": "长安汽车前三季度销量多少"}, headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401 and "not valid" in gone.json()["error"]
    assert client.get("/api/ask", params={"q": "x"}, headers={"Authorization": "Bearer cqqa_made_up"}).status_code == 401


def test_a_user_cannot_continue_another_users_conversation(tmp_path):
    client, settings = make_app(tmp_path)
    users = Users(settings.users_file)
    ann, ed = (f"Bearer {users.new_token(name)[1]}" for name in ("ann", "ed"))
    first = client.get("/api/ask", params={"q": "长安汽车前三季度销量多少"}, headers={"Authorization": ann}).json()
    conversation = first["conversation"]
    theirs = client.get("/api/ask", params={"q": "同比增长多少", "conversation": conversation},
                        headers={"Authorization": ed})
    assert theirs.status_code == 404
    own = client.get("/api/ask", params={"q": "同比增长多少", "conversation": conversation}, headers={"Authorization": ann})
    assert own.status_code == 200 and own.json()["conversation"] == conversation


def test_a_failed_login_is_slowed_refused_and_audited(tmp_path):
    client, settings = make_app(tmp_path)
    statuses = [login(client, "ann", "wrong password").status_code for _ in range(FREE_FAILURES + 1)]
    assert statuses == [401] * FREE_FAILURES + [429]
    right_too_soon = login(client, "ann", PASSWORD)
    assert right_too_soon.status_code == 429 and int(right_too_soon.headers["retry-after"]) >= 1
    assert "set-cookie" not in right_too_soon.headers
    failed = [line for line in Audit(settings.audit_path).lines() if line["what"] == "login failed"]
    assert len(failed) == FREE_FAILURES + 2 and failed[0]["who"] == "ann" and failed[0]["address"]


def test_login_goes_back_only_to_a_path_on_this_server(tmp_path):
    client, _ = make_app(tmp_path)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert login(client, next_path=target).headers["location"] == "/"
        client.cookies.clear()


def test_without_users_on_loopback_it_works_as_before(tmp_path):
    client, _ = make_app(tmp_path, users=())
    assert client.get("/api/ask", params={"q": "长安汽车前三季度销量多少"}).status_code == 200
    assert client.get("/login").status_code == 303  # nothing to log in to


# ---- cqqa serve and cqqa users


def cqqa(*args, env=None, stdin=""):
    import os

    return subprocess.run([sys.executable, "-m", "cqqa.cli", *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.integration  # starts a process
def test_serve_on_an_address_others_reach_without_users_refuses_and_says_how_to_fix_it(tmp_path):
    env = {"CQQA_USERS_FILE": str(tmp_path / "users.sqlite3")}
    started = time.monotonic()
    refused = cqqa("serve", "--host", "0.0.0.0", "--port", "0", env=env)
    assert refused.returncode == 1 and time.monotonic() - started < 60
    assert "cqqa users add NAME --role admin" in refused.stderr and "--no-auth" in refused.stderr


@pytest.mark.integration  # starts a process
def test_users_command_adds_lists_and_revokes_with_audit_lines(tmp_path):
    env = {"CQQA_USERS_FILE": str(tmp_path / "u" / "users.sqlite3")}
    assert cqqa("users", "add", "boss", "--role", "admin", "--password-stdin", env=env, stdin=PASSWORD + "\n").returncode == 0
    made = cqqa("users", "token", "boss", "--label", "ci", env=env)
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("cqqa_")
    listed = cqqa("users", "list", "--json", env=env)
    assert '"role": "admin"' in listed.stdout and '"tokens": 1' in listed.stdout
    token_id = cqqa("users", "tokens", env=env).stdout.split()[0]
    assert cqqa("users", "revoke", token_id, env=env).returncode == 0
    assert Users(tmp_path / "u" / "users.sqlite3").by_token(token) is None
    whats = [line["what"] for line in Audit(tmp_path / "u" / "audit.jsonl").lines()]
    assert whats == ["user added", "token made", "token revoked"]
    short = cqqa("users", "passwd", "boss", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
