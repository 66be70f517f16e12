"""The web chat (`cqqa serve`): a Gradio page (chat.py) plus plain routes, on one FastAPI app.

    /                          the chat
    /article/<version>/<doc>   the whole article as text, the cited passage highlighted (?start=&end=&q=)
    /answer/<id>               one kept answer, read-only (the link the sources panel offers)
    /api/ask?q=...             the same answers as JSON (what `cqqa ask --json` prints; api.py)
    /api/status                {"ready", "state"}, and the index version being served once ready
    /add, /api/articles        adding an article from the chat (uploads.py)
    /login, /logout            once users exist, every other route needs a login or a token (access.py)
    /password                  a logged-in user changes their password (account.py)

The server listens at once; the model loads behind it (Startup). Until it is ready the page
says so, /api/status answers 503 {"ready": false}, and questions wait: none is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from cqqa.answer.assistant import Assistant
from cqqa.answer.conversations import Conversations
from cqqa.errors import CqqaError
from cqqa.index.stores import open_store
from cqqa.serve.chat import Chat, browser_secret
from cqqa.serve.page import CSS, build_ui
from cqqa.serve.guard import text_page
from cqqa.serve.render import article_html, escape

class Startup:
    """The assistant while it loads (`load` runs in a thread): requests that need it wait."""

    def __init__(self, load: Callable[[], Assistant]):
        self._load = load
        self._done = threading.Event()
        self.assistant: Assistant | None = None
        self.error: BaseException | None = None
        self.state = "loading the embedding model and checking the index"

    def start(self) -> "Startup":
        threading.Thread(target=self._run, name="cqqa-startup", daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            self.assistant = self._load()
        except BaseException as exc:  # the server stops; cqqa serve reports it and exits 1
            self.error, self.state = exc, f"failed: {exc}"
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self.error is None

    def failed(self) -> bool:
        """Wait until loading has finished; True if it failed."""
        self._done.wait()
        return self.error is not None

    def wait(self) -> Assistant:
        self._done.wait()
        if self.error is not None:
            raise CqqaError(f"cqqa could not start: {self.error}")
        return self.assistant


def status_text(startup: Startup):
    """The loading banner: what is loading, then nothing (or why it failed)."""
    def status():
        if not startup.ready:
            yield f"⏳ **Loading** ({startup.state}): ask away, questions are answered as soon as it is ready."
        try:
            startup.wait()
        except CqqaError as exc:
            yield f"⚠ {exc}"
            return
        yield ""

    return status


def uploads_allowed(host: str, allow: bool, logins: bool = False) -> tuple[bool, str]:
    """Whether articles can be added from the chat: when users exist, by editors (access.py);
    else only when the server listens on loopback (only this machine's users can reach it), or
    with --allow-uploads."""
    from cqqa.serve.guard import LOOPBACK_NAMES

    if allow or logins or host in LOOPBACK_NAMES:
        return True, ""
    return False, (f"adding articles from the chat is off: this server listens on {host}, so anyone who can reach "
                   "it could add files; restart it with --allow-uploads (or CQQA_ALLOW_UPLOADS=1) to allow it")


def add_status_route(app, startup: Startup) -> None:
    from fastapi.responses import JSONResponse

    @app.get("/api/status")
    def api_status():
        if not startup.ready:
            return JSONResponse({"ready": False, "state": startup.state}, status_code=503)
        assistant = startup.assistant
        assistant.refresh()
        return {"ready": True, "state": "ready", "index_version": assistant.index_version,
                "chunks": len(assistant.index.chunks)}


def build_app(startup: Startup, settings, feedback_path: Path | None = None, host: str = "127.0.0.1",
              allowed_hosts: tuple[str, ...] = ()):
    """The FastAPI app: the plain routes, then the Gradio chat mounted at /, all behind the Guard
    (guard.py: foreign Host headers, Gradio's file and upload routes, security headers)."""
    from fastapi import FastAPI, Query

    from cqqa.serve.access import Access, AccessGate, add_login_routes
    from cqqa.serve.account import add_account_routes
    from cqqa.serve.api import add_answer_routes
    from cqqa.serve.audit import Audit
    from cqqa.serve.guard import Guard
    from cqqa.serve.site import site_for
    from cqqa.serve.uploads import Uploads, add_upload_routes

    app = FastAPI(title="cqqa", docs_url=None, redoc_url=None, openapi_url=None)
    versions = open_store(settings)  # the index versions an article link names (index/stores/)
    store = Conversations(settings.conversations_file, settings.conversations_max)
    access = Access(settings.users_file, Audit(settings.audit_path), settings.session_hours, settings.behind_https)
    site = site_for(settings, versions)  # read again as pages load: an index built since names its articles
    add_login_routes(app, access, lambda: site_for(settings, versions).title)
    add_account_routes(app, access)

    @app.get("/article/{version}/{doc_id:path}")
    def article(version: str, doc_id: str, start: int = 0, end: int = 0, q: list[str] = Query(default=[])):
        from cqqa.index.version import Index

        if not versions.has(version):
            return text_page("<p>This passage came from an index version that has since been replaced; "
                                "ask the question again.</p>", 410)
        try:
            index: Index = startup.wait().index
            if index.version != version:
                index = versions.load(version)
            text = index.document_text(doc_id)
        except CqqaError as exc:
            return text_page(f"<p>{escape(str(exc))}</p>", 404)
        meta = index.document_meta(doc_id)
        return text_page(article_html(meta.get("title", doc_id), text, start, end, q, version, bool(meta.get("pages"))))

    add_answer_routes(app, startup, store, versions, access)
    uploads = Uploads(settings, startup, *uploads_allowed(host, settings.allow_uploads, access.on()))
    add_upload_routes(app, uploads, access.audit)

    add_status_route(app, startup)

    chat = Chat(startup, store, feedback_path or settings.feedback_file, versions, access, uploads.enabled)
    ui = build_ui(chat, browser_secret(settings.conversations_file.parent), status_text(startup), site,
                  lambda: site_for(settings, versions))
    # No file is ever served or accepted through Gradio: block every path (the Guard refuses the
    # file and upload routes before Gradio sees them; this is the second line).
    app = gr.mount_gradio_app(app, ui, path="/", css=CSS, footer_links=[], blocked_paths=[str(Path("/").resolve())],
                              max_file_size=1)
    ui.has_launched = True  # mounted apps skip Gradio's own path checks until then
    app.add_middleware(AccessGate, access=access)  # inside the Guard: foreign hosts and sites are refused first
    app.add_middleware(Guard, bind_host=host, extra_hosts=tuple(allowed_hosts))
    return app


def serve(startup: Startup, settings, sock, feedback_path: Path | None = None, on_listening=lambda url: None,
          allowed_hosts: tuple[str, ...] = ()) -> None:
    """Answer HTTP on `sock` (bound and listening) at once; `startup` (already started) loads the
    assistant meanwhile. A failed start stops the server."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    app = build_app(startup, settings, feedback_path, host, allowed_hosts)
    config = uvicorn.Config(app, log_level="warning")
    server = uvicorn.Server(config)
    original = server.startup

    async def startup_hook(*args, **kwargs):
        await original(*args, **kwargs)
        on_listening(f"http://{host if ':' not in host else f'[{host}]'}:{port}/")

    server.startup = startup_hook
    def stop_if_startup_fails() -> None:
        if startup.failed():
            server.should_exit = True

    threading.Thread(target=stop_if_startup_fails, daemon=True).start()
    server.run(sockets=[sock])
