"""The responder that answers while `cqqa serve` imports the chat: a real socket, real HTTP."""

import http.client
import json
import socket
import threading

import pytest

from cqqa.serve.loading import LoadingResponder

pytestmark = pytest.mark.unit


@pytest.fixture
def responder():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    early = LoadingResponder(sock, "127.0.0.1").start()
    yield early, sock.getsockname()[1]
    early.stop()
    sock.close()


def request(port, path, host="127.0.0.1", method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    reply = conn.getresponse()
    return reply.status, reply.headers, reply.read()  # headers: case-insensitive, as HTTP names are


def test_the_page_says_the_chat_is_starting_and_reloads(responder):
    _, port = responder
    status, headers, body = request(port, "/")
    assert status == 503 and headers["Retry-After"] == "1"
    assert b"cqqa is starting" in body and b'http-equiv="refresh"' in body
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["X-Frame-Options"] == "DENY"


def test_status_answers_not_ready_as_the_chat_does_while_loading(responder):
    _, port = responder
    status, _, body = request(port, "/api/status")
    assert status == 503 and json.loads(body)["ready"] is False


def test_a_foreign_host_is_refused_here_too(responder):
    _, port = responder
    status, _, body = request(port, "/", host="attacker.example")
    assert status == 400 and b"Invalid host" in body


def test_a_question_asked_early_is_held_then_sent_to_the_chat(responder):
    early, port = responder
    replies = []
    asker = threading.Thread(target=lambda: replies.append(request(port, "/api/ask?q=%E9%87%8D%E5%BA%86")))
    asker.start()
    asker.join(0.5)
    assert asker.is_alive() and not replies, "the question must wait for the chat, not be refused"
    early.stop()  # the chat now listens
    asker.join(10)
    status, headers, _ = replies[0]
    assert status == 307 and headers["Location"] == "/api/ask?q=%E9%87%8D%E5%BA%86"


def test_after_stop_it_accepts_nothing_more(responder):
    early, port = responder
    early.stop()
    conn = socket.create_connection(("127.0.0.1", port), timeout=2)
    conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    conn.settimeout(0.5)
    with pytest.raises(socket.timeout):  # left in the backlog, for the chat's server
        conn.recv(100)
    conn.close()
