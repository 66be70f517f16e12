"""What the web server refuses, in one ASGI middleware wrapped around the whole app.

- **Foreign Host headers** (DNS rebinding): a page on attacker.example whose name is made to
  resolve to 127.0.0.1 sends `Host: attacker.example`. Only the loopback names, the bound
  address and names given with `--allow-host` (CQQA_ALLOWED_HOSTS) are answered; an IP literal
  is never a rebinding vector, so when bound to a wildcard address any IP literal is answered.
- **Gradio's file, upload and proxy routes**: the chat shows text only and never serves or
  receives a file, so `/gradio_api/file=…`, `/gradio_api/upload`, `/gradio_api/proxy=…` and
  Gradio's development, profiling and media-stream routes are refused before Gradio sees them.
- **Requests from other sites** (cross-site request forgery): a page on another origin — another
  port of localhost included — can make a browser send requests here with its cookies and
  storage. A request whose `Origin` is not this server, or that the browser marks
  `Sec-Fetch-Site: cross-site`/`same-site`, is refused, except a plain navigation (a link
  followed to the chat or to a shared answer, which changes nothing). So no other page can keep
  a conversation (`/api/ask`), add an article, vote, or read `/config`. Clients that are not
  browsers send neither header and are answered.
- **Headers on every response**: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
  `Referrer-Policy: no-referrer`, and a CSP with `frame-ancestors 'none'` (added to the
  response's own CSP when it has one).
"""

from __future__ import annotations

import ipaddress
import json
import re

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
# Gradio routes the chat never uses; each could serve or accept a file.
REFUSED_ROUTES = re.compile(
    r"^/gradio_api/(file[=/]|upload|proxy=|stream/|process_recording|vibe|profiling|run-history|"
    r"dev/|custom_component/|runs)"
)
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}
FRAME_ANCESTORS = b"frame-ancestors 'none'"
# Pages where nothing loads or runs (the article page, the "starting" page): inline styles only.
TEXT_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower-cased."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def allowed_hosts(bind_host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    return LOOPBACK_NAMES | {host_name(h) for h in extra if h} | ({bind_host.lower()} - WILDCARDS)


def host_allowed(header: str, allowed: frozenset[str], bind_host: str) -> bool:
    name = host_name(header)
    return name in allowed or (bind_host in WILDCARDS and is_ip(name))


class Guard:
    """ASGI middleware: refuses foreign hosts and file routes, adds security headers."""

    def __init__(self, app, bind_host: str = "127.0.0.1", extra_hosts: tuple[str, ...] = ()):
        self.app = app
        self.bind_host = bind_host
        self.allowed = allowed_hosts(bind_host, extra_hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_allowed(host, self.allowed, self.bind_host):
            return await refuse(scope, send, 421, f"this server does not answer for host {host!r}; "
                                f"open it as http://127.0.0.1 or http://localhost, or start it with "
                                f"--allow-host {host_name(host) or 'NAME'}")
        if REFUSED_ROUTES.match(scope.get("path", "")):
            return await refuse(scope, send, 403, "this server does not serve or accept files")
        if (why := cross_site(headers, scope.get("method", "GET"), scope.get("path", ""))) is not None:
            return await refuse(scope, send, 403, why)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers") or []))
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def cross_site(headers: dict[bytes, bytes], method: str, path: str) -> str | None:
    """Why a request is refused as coming from another site, or None."""
    host = headers.get(b"host", b"").decode("latin-1").lower()
    origin = headers.get(b"origin")
    if origin is not None and origin.decode("latin-1").split("://", 1)[-1].rstrip("/").lower() != host:
        return f"a page on {origin.decode('latin-1')!r} cannot use this server; open it at http://{host}/"
    site = headers.get(b"sec-fetch-site", b"")
    navigation = (method in ("GET", "HEAD") and headers.get(b"sec-fetch-mode") == b"navigate"
                  and not path.startswith(("/api/", "/gradio_api/", "/config")))
    if site in (b"cross-site", b"same-site") and not navigation:
        return f"a request from another site cannot use this server; open it at http://{host}/"
    return None


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    out = [(name, value + b"; " + FRAME_ANCESTORS
            if name.lower() == b"content-security-policy" and b"frame-ancestors" not in value else value)
           for name, value in headers]
    out += [(name, value) for name, value in SECURITY_HEADERS.items() if name not in present]
    if b"content-security-policy" not in present:
        out.append((b"content-security-policy", FRAME_ANCESTORS))
    return out


async def refuse(scope, send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": reason}).encode()
    headers = with_security_headers([(b"content-type", b"application/json"),
                                     (b"content-length", str(len(body)).encode())])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def text_page(body: str, status: int = 200, csp: str = TEXT_PAGE_CSP, headers: dict | None = None):
    """An HTML response under TEXT_PAGE_CSP (nothing loads, nothing runs): the article page, a
    shared answer, their errors; `csp` and `headers` for a page that must allow a little more
    (the /add form posts to this server)."""
    from fastapi.responses import HTMLResponse

    return HTMLResponse(body, status_code=status, headers={"Content-Security-Policy": csp, **(headers or {})})
