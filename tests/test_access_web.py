"""Users and access against the real server: `cqqa serve` started as a process with a users file
(a reader and an editor), the real model, over the two articles without their site.toml (so the
page must say what it searches from the index); driven by httpx and in Debian's headless
Chromium. The same rules in-process, case by case: test_access.py."""

from __future__ import annotations

import shutil
import sys

import httpx
import pytest

from helpers import DOCS_SRC, ROOT, free_port, start_process, stop_process
from test_web import WAIT_MS, past_conversations, wait_for_sources  # the browser fixture: conftest.py

from cqqa.serve.users import FREE_FAILURES, Users

pytestmark = pytest.mark.browser  # a real server with the real model, driven in Chromium
PASSWORD = "a long pass phrase"
QUESTION = "长安汽车今年前三季度销量多少？"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("access")
    source = work / "docs_src"
    shutil.copytree(DOCS_SRC, source)
    (source / "site.toml").unlink()  # this deployment says nothing of itself: the page must not borrow ours
    (work / "index").mkdir()
    shutil.copy(ROOT / "index" / "decision.json", work / "index" / "decision.json")
    users_file = work / "users" / "users.sqlite3"
    users = Users(users_file)
    users.add("ann", PASSWORD, "reader")
    users.add("ed", PASSWORD, "editor")
    port = free_port()
    env = {"CQQA_USERS_FILE": str(users_file), "CQQA_CONVERSATIONS_FILE": str(work / "conv" / "c.sqlite3")}
    proc = start_process([sys.executable, "-m", "cqqa.cli", "serve", "--port", str(port), "--source", str(source),
                          "--index", str(work / "index"), "--no-reader"], "is ready at", timeout=300, env=env)
    yield {"url": f"http://127.0.0.1:{port}", "users": users, "audit": users_file.parent / "audit.jsonl"}
    stop_process(proc)


def log_in(page, url: str, name: str) -> None:
    page.goto(url + "/", wait_until="domcontentloaded")
    page.wait_for_selector("#cqqa-login-name", timeout=WAIT_MS)  # sent to the login page
    page.fill("#cqqa-login-name", name)
    page.fill("#cqqa-login-password", PASSWORD)
    page.click("#cqqa-login-submit")
    page.wait_for_selector("#cqqa-question textarea", timeout=WAIT_MS)
    page.wait_for_selector("#cqqa-user", timeout=WAIT_MS)


def login_cookie(url: str, name: str, **headers) -> httpx.Response:
    return httpx.post(url + "/login", data={"name": name, "password": PASSWORD}, headers=headers)


def test_in_the_browser_log_in_ask_see_it_listed_and_log_out(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log_in(page, server["url"], "ann")
    assert "Logged in as ann (reader)" in page.inner_text("#cqqa-account")
    assert page.locator("#cqqa-password").get_attribute("href") == "password"  # change one's own password
    title = page.inner_text("#cqqa-title")
    assert "ask these 2 articles" in title, title
    assert "Chongqing" not in page.title() and "Yin Qi" not in page.content()  # not borrowed from our site.toml
    assert not page.locator("#cqqa-add").is_visible()  # a reader is not offered "Add an article"
    page.fill("#cqqa-question textarea", QUESTION)
    page.keyboard.press("Enter")
    wait_for_sources(page, "206.6")
    listed = past_conversations(page)
    assert listed and listed[0].startswith(QUESTION)
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "cqqa_session")
    page.click("#cqqa-logout")
    page.wait_for_selector("#cqqa-login-name", timeout=WAIT_MS)
    page.goto(server["url"] + "/", wait_until="domcontentloaded")
    page.wait_for_selector("#cqqa-login-name", timeout=WAIT_MS)  # logged out: the chat is closed
    assert httpx.get(server["url"] + "/api/status", cookies={"cqqa_session": cookie}).status_code == 401
    context.close()
    whats = _audit(server)
    assert "login" in whats and "logout" in whats


def _audit(server) -> list[str]:
    import json

    return [json.loads(line)["what"] for line in server["audit"].read_text().splitlines()]


def test_conversations_are_the_user_s_from_any_browser_and_never_another_s(server, browser):
    url = server["url"]
    first = httpx.get(url + "/api/ask", params={"q": QUESTION}, cookies=login_cookie(url, "ann").cookies, timeout=120)
    conversation = first.json()["conversation"]
    ann = browser.new_context()  # another browser of the same user lists it
    page = ann.new_page()
    log_in(page, url, "ann")
    assert any(title.startswith(QUESTION) for title in past_conversations(page))
    ann.close()
    ed = browser.new_context()
    page = ed.new_page()
    log_in(page, url, "ed")
    assert page.locator("#cqqa-add").is_visible()  # an editor is offered "Add an article"
    page.fill("#cqqa-question textarea", "李书福怎么看智能化和安全？")  # ed's own conversation
    page.keyboard.press("Enter")
    wait_for_sources(page, "[1]")
    listed = past_conversations(page)
    assert listed and not any(title.startswith(QUESTION) for title in listed)  # ann's are not listed for ed
    ed_cookies = {c["name"]: c["value"] for c in ed.cookies()}
    theirs = httpx.get(url + "/api/ask", params={"q": "同比增长多少", "conversation": conversation},
                       cookies=ed_cookies, timeout=120)
    assert theirs.status_code == 404  # nor continued by id
    ed.close()


def test_api_tokens_no_token_and_a_revoked_one(server):
    url, users = server["url"], server["users"]
    assert httpx.get(url + "/api/ask", params={"q": QUESTION}).status_code == 401
    token_id, token = users.new_token("ann", "test")
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(url + "/api/ask", params={"q": QUESTION}, headers=bearer, timeout=120).status_code == 200
    users.revoke(token_id)
    assert httpx.get(url + "/api/ask", params={"q": QUESTION}, headers=bearer, timeout=120).status_code == 401


def test_a_reader_cannot_add_an_article(server):
    url = server["url"]
    token = server["users"].new_token("ann")[1]
    refused = httpx.post(url + "/api/articles", files={"file": ("x.txt", "标题\n正文。".encode())},
                         headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403 and "editor" in refused.json()["error"]


def test_brute_force_is_slowed_and_the_cookie_is_strict_httponly_and_secure_behind_a_proxy(server):
    url = server["url"]
    tries = [httpx.post(url + "/login", data={"name": "ed", "password": "guess"}, headers={"X-Forwarded-For": "10.9.9.9"})
             for _ in range(FREE_FAILURES + 1)]
    assert [t.status_code for t in tries] == [401] * FREE_FAILURES + [429]
    assert int(tries[-1].headers["retry-after"]) >= 1
    right_too_soon = httpx.post(url + "/login", data={"name": "ed", "password": PASSWORD},
                                headers={"X-Forwarded-For": "10.9.9.9"})
    assert right_too_soon.status_code == 429  # from that address (forwarded by the trusted proxy 127.0.0.1)
    plain = login_cookie(url, "ed").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=Strict" in plain and "Secure" not in plain
    proxied = login_cookie(url, "ed", **{"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" in proxied
    assert _audit(server).count("login failed") >= FREE_FAILURES + 2
