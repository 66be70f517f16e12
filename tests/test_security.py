"""Attacks on a real `cqqa serve` process over HTTP: file reads through Gradio's event handlers,
foreign Host headers (DNS rebinding), uploads, security headers, odd input, broken links.

Each test replays what a hostile client can send; nothing outside the app's folders may ever be
served, and a canary file outside them must never appear in any response or in Gradio's cache."""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
import time
from pathlib import Path

import pytest

from helpers import CQQA, copy_index, free_port, request, start_process, stop_process

pytestmark = pytest.mark.integration

ALLOWED_NAME = "cqqa.test"


def serve_args(settings, port: int, work: Path) -> list[str]:
    return [CQQA, "serve", "--port", str(port), "--source", str(settings.source_dir), "--index",
            str(settings.index_dir), "--feedback", str(work / "feedback.jsonl"), "--allow-host", ALLOWED_NAME]


@pytest.fixture(scope="module")
def server(built_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp("security")
    settings = copy_index(built_settings, work)
    canary = work / "outside" / "secret.txt"
    canary.parent.mkdir()
    token = secrets.token_hex(16)
    canary.write_text(f"canary {token}\n")
    port = free_port()
    env = {"CQQA_LLM_BASE_URL": "", "GRADIO_TEMP_DIR": str(work / "gradio-tmp")}
    state = {"port": port, "work": work, "settings": settings, "canary": canary, "token": token, "env": env,
             "gradio_tmp": work / "gradio-tmp"}
    state["proc"] = start_process(serve_args(settings, port, work), "is ready at", timeout=300, env=env)
    yield state
    stop_process(state["proc"])


def config(server) -> dict:
    status, _, body = request(server, "GET", "/config")
    assert status == 200
    return json.loads(body)


def run_event(server, fn_index: int, data: list, session: str, event_data=None, trigger_id=None) -> str:
    """Join Gradio's queue as a client would and return the whole event stream as text."""
    payload = {"fn_index": fn_index, "data": data, "session_hash": session, "event_data": event_data,
               "trigger_id": trigger_id}
    status, _, body = request(server, "POST", "/gradio_api/queue/join", json.dumps(payload).encode(),
                              {"Content-Type": "application/json"})
    assert status == 200, body
    status, _, stream = request(server, "GET", f"/gradio_api/queue/data?session_hash={session}")
    return stream.decode("utf-8", "replace")


def file_payloads(path: str) -> list:
    """Every shape in which a client can name a server file to a Gradio component."""
    file_data = {"path": path, "meta": {"_type": "gradio.FileData"}}
    return [
        file_data,
        {**file_data, "url": None, "orig_name": "x.txt"},
        [{"role": "user", "content": [{"type": "file", "file": file_data}]}],
        [{"role": "assistant", "content": {"path": path, "meta": {"_type": "gradio.FileData"}}}],
        {"text": file_data, "files": [file_data]},
    ]


def dependencies(server) -> list[tuple[int, dict]]:
    return list(enumerate(config(server)["dependencies"]))


def cached_copies(server) -> list[Path]:
    root = server["gradio_tmp"]
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_no_event_handler_returns_or_caches_a_server_file(server):
    secrets_to_try = [str(server["canary"]), "/etc/passwd"]
    passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    deps = dependencies(server)
    assert len(deps) >= 6, "every handler of the chat is replayed"
    n = 0
    for fn_index, dep in deps:
        trigger = dep["targets"][0][0] if dep.get("targets") else None
        for path in secrets_to_try:
            for payload in file_payloads(path):
                slots = max(1, len(dep["inputs"]))
                for slot in range(slots):
                    data = ["what did Yin Qi say about AI 2.0"] * slots
                    data[slot] = payload
                    event = {"index": 1, "value": payload, "liked": True, "selected": True}
                    n += 1
                    stream = run_event(server, fn_index, data, f"attack{n}", event, trigger)
                    assert server["token"] not in stream and passwd not in stream
                    assert "/gradio_api/file=" not in stream and '"url"' not in stream, stream[:2000]
    for copy in cached_copies(server):
        text = copy.read_text(errors="replace")
        assert server["token"] not in text and passwd not in text, f"{copy} is a copy of a server file"


def test_gradio_file_routes_serve_nothing(server):
    for path in [f"/gradio_api/file={server['canary']}", "/gradio_api/file=/etc/passwd",
                 f"/gradio_api/file/{server['canary']}", "/gradio_api/proxy=http://127.0.0.1:1/",
                 "/gradio_api/file=" + str(server["settings"].source_dir / "chongqing-ev-capital-feature.txt")]:
        status, _, body = request(server, "GET", path)
        assert status == 403, (path, status)
        assert server["token"].encode() not in body and b"root:x:" not in body


def test_uploads_are_refused_and_nothing_is_stored(server):
    boundary = "cqqa" + secrets.token_hex(8)
    big = b"A" * (2 * 1024 * 1024)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    before = set(cached_copies(server))
    status, _, reply = request(server, "POST", "/gradio_api/upload", body,
                               {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 403, reply
    assert set(cached_copies(server)) == before


@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/config"), ("GET", "/api/status"),
                                          ("GET", "/api/ask?q=Yin%20Qi"), ("POST", "/gradio_api/queue/join")])
def test_a_foreign_host_header_is_refused(server, method, path):
    status, _, body = request(server, method, path, b"{}" if method == "POST" else None,
                              {"Host": f"attacker.example:{server['port']}", "Content-Type": "application/json"})
    assert status == 421, body
    assert b"attacker.example" in body and b"--allow-host" in body


def test_loopback_and_allowed_names_are_answered(server):
    for host in (f"127.0.0.1:{server['port']}", f"localhost:{server['port']}", f"{ALLOWED_NAME}:{server['port']}"):
        status, _, body = request(server, "GET", "/api/status", headers={"Host": host})
        assert status == 200 and b"index_version" in body, host


def test_security_headers(server):
    status, headers, _ = request(server, "GET", "/api/status")
    assert status == 200 and headers["x-content-type-options"] == "nosniff"
    status, headers, _ = request(server, "GET", "/")
    assert status == 200 and headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    for path in ("/article/no-such-version/doc", "/article/" + server["settings"].index_dir.joinpath("CURRENT")
                 .read_text().strip() + "/no-such-doc"):
        status, headers, _ = request(server, "GET", path)
        assert status in (404, 410), path
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path


def test_api_docs_are_off(server):
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):  # (/openapi.json is Gradio's API description, JSON)
        status, _, body = request(server, "GET", path)
        assert status == 404, path
        assert b"cdn.jsdelivr" not in body


def respond_fn(server) -> int:
    return next(i for i, dep in dependencies(server) if dep["targets"] and dep["targets"][0][1] == "submit")


def like_fn(server) -> int:
    return next(i for i, dep in dependencies(server) if dep["targets"] and dep["targets"][0][1] == "like")


def test_a_lone_surrogate_in_a_message_gets_an_answer_not_a_broken_stream(server):
    stream = run_event(server, respond_fn(server), ["\ud800what did Yin Qi say about AI 2.0\udfff", None, None], "surrogate")
    done = [json.loads(line[6:]) for line in stream.splitlines()
            if line.startswith("data: ") and '"process_completed"' in line]
    assert done and done[0]["success"] is True, stream[-2000:]
    assert "2.0" in json.dumps(done[0]["output"], ensure_ascii=False)
    status, _, body = request(server, "GET", "/api/ask?q=%ED%A0%80Yin%20Qi%20AI%202.0")
    assert status == 200, body


def test_an_unreadable_old_version_is_a_404_not_a_500(server):
    broken = server["settings"].index_dir / "versions" / "20000101T000000.000000-1"
    broken.mkdir()
    (broken / "manifest.json").write_text("{ not json")
    try:
        status, headers, body = request(server, "GET", f"/article/{broken.name}/chongqing-ev-capital-feature")
        assert status == 404, body
        assert "default-src 'none'" in headers["content-security-policy"]
        assert b"corrupt" in body and b"cqqa index" in body
    finally:
        shutil.rmtree(broken)


def test_article_page_with_start_after_end_shows_the_text_once(server):
    version = server["settings"].index_dir.joinpath("CURRENT").read_text().strip()
    doc = "chongqing-ev-capital-feature"
    status, _, body = request(server, "GET", f"/article/{version}/{doc}?start=500&end=100")
    assert status == 200
    page = body.decode()
    source = (server["settings"].source_dir / f"{doc}.txt").read_text(encoding="utf-8")
    snippet = source[300:330]  # text before either offset, on one line of the source
    assert "\n" not in snippet and page.count(snippet) == 1, "the text is shown once, not duplicated"
    assert "characters 500–500" in page


def test_one_vote_per_answer_changeable(server):
    session = "voter"
    stream = run_event(server, respond_fn(server), ["what did Yin Qi say about AI 2.0", None, None], session)
    assert '"process_completed"' in stream
    feedback = server["work"] / "feedback.jsonl"
    for _ in range(10):
        run_event(server, like_fn(server), [None], session, {"index": 1, "value": "x", "liked": True})
    rows = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 and rows[0]["liked"] is True and rows[0]["question"] == "what did Yin Qi say about AI 2.0"
    run_event(server, like_fn(server), [None], session, {"index": 1, "value": "x", "liked": False})
    rows = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1 and rows[0]["liked"] is False, "the vote changed, no second row"
    assert rows[0]["answer_id"]


def test_the_port_is_free_right_after_a_stop(server):
    """Last in this module: restarts the server. A connection still open when the server stops
    leaves the server's side in TIME-WAIT; the next `cqqa serve` on that port must start anyway."""
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=30)
    conn.request("GET", "/api/status")
    conn.getresponse().read()  # keep-alive: the server closes this connection when it stops
    stop_process(server["proc"])
    conn.close()
    started = time.monotonic()
    server["proc"] = start_process(serve_args(server["settings"], server["port"], server["work"]), "is ready at",
                                   timeout=300, env=server["env"])
    status, _, _ = request(server, "GET", "/api/status")
    assert status == 200 and time.monotonic() - started < 120
