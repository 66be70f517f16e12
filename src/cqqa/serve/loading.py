"""The first seconds of `cqqa serve`: a minimal HTTP responder on the already-bound socket while
the chat itself (Gradio, FastAPI, uvicorn: 3-5 s of imports) is still being imported.

Only the standard library, so it answers within a fraction of a second of the process starting:
- `GET /` gets a small page saying the chat is starting, which reloads itself every second;
- `GET /api/status` gets 503 `{"ready": false, "state": ...}`, as the chat answers while loading;
- any other request (a question to /api/ask, say) is held until the chat listens, then
  redirected (307) to the same address, where the chat answers it: nothing asked early is lost.
The Host check (guard.py) and the security headers apply here as they do in the chat. `stop()`
is called once the chat is listening on the same socket; from then on only the chat accepts.
"""

from __future__ import annotations

import json
import select
import socket
import threading

from cqqa.serve.guard import TEXT_PAGE_CSP, allowed_hosts, host_allowed, with_security_headers

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>cqqa is starting</title></head><body style="font-family: sans-serif; margin: 3rem">
<p>⏳ cqqa is starting: the chat will appear here in a few seconds.</p></body></html>"""
MAX_REQUEST_HEAD = 16_384
MAX_HELD = 256  # requests held for the chat at once; past that they are told to retry


class LoadingResponder:
    def __init__(self, sock: socket.socket, bind_host: str, extra_hosts: tuple[str, ...] = (),
                 state: str = "starting the web server"):
        self.sock = sock
        self.bind_host = bind_host
        self.allowed = allowed_hosts(bind_host, extra_hosts)
        self.state = state
        self._stop = threading.Event()
        self._held = threading.BoundedSemaphore(MAX_HELD)
        self._thread = threading.Thread(target=self._accept, name="cqqa-loading", daemon=True)

    def start(self) -> "LoadingResponder":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, and send the held requests on to the chat (now listening)."""
        self._stop.set()
        self._thread.join()

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready or self._stop.is_set():
                continue
            try:
                self.sock.setblocking(False)  # the chat's server may take the connection first
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return  # the socket was closed: the server is stopping
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.setblocking(True)
            conn.settimeout(5)
            try:
                method, target, host = _request_head(conn)
                conn.sendall(self._reply(method, target, host))
            except (OSError, ValueError):
                pass  # a client that went away or sent no HTTP: nothing to answer

    def _reply(self, method: str, target: str, host: str) -> bytes:
        if not host_allowed(host, self.allowed, self.bind_host):
            return _response(400, "text/plain; charset=utf-8", b"Invalid host header")
        path = target.split("?", 1)[0]
        if method in ("GET", "HEAD") and path == "/":
            return _response(503, "text/html; charset=utf-8", PAGE.encode(), method == "HEAD", "Retry-After: 1\r\n")
        if path == "/api/status":
            body = json.dumps({"ready": False, "state": self.state}).encode()
            return _response(503, "application/json", body, method == "HEAD", "Retry-After: 1\r\n")
        if not target.startswith("/") or target.startswith("//"):
            return _response(400, "text/plain; charset=utf-8", b"Bad request")
        if not self._held.acquire(blocking=False):
            return _response(503, "text/plain; charset=utf-8", b"cqqa is starting; try again", extra="Retry-After: 1\r\n")
        try:
            self._stop.wait()  # the chat now listens on this socket: ask it there
        finally:
            self._held.release()
        return _response(307, "text/plain; charset=utf-8", b"", extra=f"Location: {target}\r\n")


def _request_head(conn: socket.socket) -> tuple[str, str, str]:
    """Method, target and Host of the request on `conn` (ValueError if it is not HTTP)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(4096)
        if not piece or len(data) > MAX_REQUEST_HEAD:
            raise ValueError("no complete request head")
        data += piece
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    host = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("host:")), "")
    return method, target, host


def _response(status: int, content_type: str, body: bytes, head_only: bool = False, extra: str = "") -> bytes:
    """A whole HTTP/1.1 response, with the chat's security headers (guard.with_security_headers)."""
    reason = {307: "Temporary Redirect", 400: "Bad Request", 503: "Service Unavailable"}[status]
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               (b"content-security-policy", TEXT_PAGE_CSP.encode()), (b"cache-control", b"no-store"),
               (b"connection", b"close")]
    headers += [tuple(part.strip().encode("latin-1") for part in line.split(":", 1))
                for line in extra.split("\r\n") if line]
    lines = [f"HTTP/1.1 {status} {reason}".encode()] + [name + b": " + value
                                                        for name, value in with_security_headers(headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head_only else body)
