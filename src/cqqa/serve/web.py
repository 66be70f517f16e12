"""The web chat (`cqqa serve`): a Gradio page plus two plain routes, on one FastAPI app.

    /                          the chat
    /article/<version>/<doc>   the whole article as text, the cited passage highlighted (?start=&end=&q=)
    /api/ask?q=...&history=... the same answers as JSON (what `cqqa ask --json` prints)
    /api/status                {"ready", "state"}, and the index version being served once ready

The server listens at once; the model loads behind it (Startup). Until it is ready the page
says so, /api/status answers 503 {"ready": false}, and questions wait: none is refused.
"""

from __future__ import annotations

import html
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from cqqa.serve import feedback
from cqqa.answer.compose import Answer, answer_json, readable
from cqqa.answer.assistant import Assistant
from cqqa.errors import CqqaError, QueryError
from cqqa.serve.render import article_html, escape, sources_html
from cqqa.textnorm import without_lone_surrogates

EXAMPLES = [
    "What did Yin Qi say about AI 2.0?",
    "李书福怎么看智能化和安全？",
    "長安汽車今年前三季度銷量多少？",
    "What is the 33618 system?",
]
CSS = """
.cqqa-sources h3 { margin: 0 0 .5rem 0; }
.cqqa-cite, .cqqa-related { border: 1px solid var(--border-color-primary); border-radius: 8px;
                             padding: .6rem .8rem; margin-bottom: .6rem; }
.cqqa-related { opacity: .85; border-style: dashed; }
.cqqa-cite-head { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: .3rem; }
.cqqa-n { font-weight: bold; color: var(--color-accent); }
.cqqa-passage { white-space: pre-wrap; margin: 0 0 .3rem 0; line-height: 1.6; }
.cqqa-passage mark { background: #fff3b0; color: inherit; }
.cqqa-open { font-size: .85rem; }
"""


def as_text(text: str) -> str:
    """Chat content shown as text: Gradio's chatbot renders HTML even without markdown, and the
    answer quotes sources that may contain any markup."""
    return html.escape(text, quote=False)


def display_text(answer: Answer) -> str:
    return as_text(readable(answer))


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


QUEUE_NOTE = ("A question asked while an answer is still being translated waits in the box and is answered as "
              "soon as that answer is complete.")
LOADING = "⏳ Loading the model; your question will be answered as soon as it is ready."


def new_session() -> dict:
    """One browser tab's conversation, kept on the server (a gr.State): the chat as displayed,
    the user's turns, and each answer with the id its vote is filed under. Nothing the client
    sends is ever returned to it: Gradio would treat a file part in returned chat history as a
    file to serve (any file the server can read)."""
    return {"chat": [], "turns": [], "records": []}


def chat_turn(startup: Startup, message, session: dict):
    """One question in the chat: the question shown, then the answer as it comes (quotes at once,
    translations as they are checked), then its sources; yields (chat, textbox, sources, session).
    The text box is emptied once, when the question is taken: what the user types while the
    answer streams is theirs, and is asked next (build_ui: trigger_mode "always_last")."""
    message = without_lone_surrogates(message).strip() if isinstance(message, str) else ""
    if not message:
        yield gr.skip(), "", gr.skip(), session
        return
    chat = session["chat"] + [{"role": "user", "content": as_text(message)},
                              {"role": "assistant", "content": "…"}]
    yield chat, "", gr.skip(), session
    answer = None
    try:
        if not startup.ready:
            chat[-1] = {"role": "assistant", "content": LOADING}
            yield chat, gr.skip(), gr.skip(), session
        for event in startup.wait().stream(message, session["turns"]):
            if isinstance(event, str):  # a generated answer as it is written
                chat[-1] = {"role": "assistant", "content": as_text(event)}
                yield chat, gr.skip(), gr.skip(), session
                continue
            first, answer = answer is None, event  # the answer, then again as its quotes are translated
            chat[-1] = {"role": "assistant", "content": display_text(answer)}
            yield chat, gr.skip(), sources_html(answer) if first else gr.skip(), session
    except CqqaError as exc:
        chat[-1] = {"role": "assistant", "content": as_text(f"⚠ {exc}")}
        yield chat, gr.skip(), gr.skip(), {**session, "chat": chat}
        return
    chat[-1] = {"role": "assistant", "content": display_text(answer)}
    record = {"message": len(chat) - 1, "answer": answer, "history": list(session["turns"]),
              "id": uuid.uuid4().hex}
    session = {"chat": chat, "turns": session["turns"] + [message], "records": session["records"] + [record]}
    yield chat, gr.skip(), sources_html(answer), session


def build_ui(startup: Startup, feedback_path: Path):
    def respond(message, session: dict):
        yield from chat_turn(startup, message, session)

    def record_for(session: dict, index) -> dict | None:
        index = index[0] if isinstance(index, (list, tuple)) and index else index
        return next((r for r in session["records"] if r["message"] == index), None) if isinstance(index, int) else None

    def on_like(session: dict, data: gr.LikeData):
        found = record_for(session, data.index)
        if found:
            feedback.record(feedback_path, found["answer"], data.liked is True, found["history"], found["id"])

    def example_text(data: gr.SelectData):
        index = data.index
        return EXAMPLES[index] if isinstance(index, int) and 0 <= index < len(EXAMPLES) else gr.skip()

    def on_select(session: dict, data: gr.SelectData):
        found = record_for(session, data.index)
        return sources_html(found["answer"]) if found else gr.skip()

    def status():
        if not startup.ready:
            yield f"⏳ **Loading** ({startup.state}): ask away, questions are answered as soon as it is ready."
        try:
            startup.wait()
        except CqqaError as exc:
            yield f"⚠ {exc}"
            return
        yield ""

    with gr.Blocks(title="cqqa · Chongqing NEV articles", analytics_enabled=False) as ui:
        gr.Markdown("## cqqa — ask the Chongqing intelligent-connected-NEV articles\n"
                    "Ask in English or Chinese; follow up; every answer cites the passages it quotes.")
        session = gr.State(new_session())
        banner = gr.Markdown("", elem_id="cqqa-status")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="cqqa-chat", height=520, render_markdown=False,
                                     examples=[{"text": q} for q in EXAMPLES],
                                     placeholder="Ask about Chongqing's intelligent connected new-energy vehicles.")
                with gr.Row():
                    box = gr.Textbox(elem_id="cqqa-question", show_label=False, scale=5, autofocus=True,
                                     placeholder="Ask in English or Chinese, e.g. what did Yin Qi say about AI 2.0")
                    send = gr.Button("Ask", elem_id="cqqa-ask", variant="primary", scale=1)
                gr.Markdown(QUEUE_NOTE, elem_id="cqqa-queue-note")
                clear = gr.Button("Clear conversation", elem_id="cqqa-clear", size="sm")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="cqqa-sources")
        outputs = [chatbot, box, sources, session]
        asking = [box.submit(respond, [box, session], outputs, trigger_mode="always_last"),  # QUEUE_NOTE
                  send.click(respond, [box, session], outputs, trigger_mode="always_last"),
                  chatbot.example_select(example_text, None, box).then(respond, [box, session], outputs)]
        chatbot.like(on_like, [session], None, queue=False)
        chatbot.select(on_select, [session], [sources], queue=False)
        reset = (lambda: ([], "", sources_html(None), new_session()))
        clear.click(reset, None, outputs, cancels=asking)  # an answer still being translated stops
        chatbot.clear(reset, None, outputs, cancels=asking)
        ui.load(status, None, banner)
    return ui




def article_page(body: str, status: int = 200):
    """An HTML response under the article page's CSP (nothing loads, nothing runs), errors included."""
    from fastapi.responses import HTMLResponse

    from cqqa.serve.guard import TEXT_PAGE_CSP

    return HTMLResponse(body, status_code=status, headers={"Content-Security-Policy": TEXT_PAGE_CSP})


def build_app(startup: Startup, settings, feedback_path: Path | None = None, host: str = "127.0.0.1",
              allowed_hosts: tuple[str, ...] = ()):
    """The FastAPI app: the plain routes, then the Gradio chat mounted at /, all behind the Guard
    (guard.py: foreign Host headers, Gradio's file and upload routes, security headers)."""
    from fastapi import FastAPI, Query
    from fastapi.responses import JSONResponse

    from cqqa.serve.guard import Guard

    app = FastAPI(title="cqqa", docs_url=None, redoc_url=None, openapi_url=None)
    index_dir = settings.index_dir

    @app.get("/article/{version}/{doc_id:path}")
    def article(version: str, doc_id: str, start: int = 0, end: int = 0, q: list[str] = Query(default=[])):
        from cqqa.index.version import Index, read_version

        folder = index_dir / "versions" / version
        if "/" in version or version.startswith(".") or not folder.is_dir():
            return article_page("<p>This passage came from an index version that has since been replaced; "
                                "ask the question again.</p>", 410)
        try:
            index: Index = startup.wait().searcher.index
            if index.version != version:
                index = read_version(folder)
            text = index.document_text(doc_id)
        except CqqaError as exc:
            return article_page(f"<p>{escape(str(exc))}</p>", 404)
        title = index.document_meta(doc_id).get("title", doc_id)
        return article_page(article_html(title, text, start, end, q, version))

    @app.get("/api/ask")
    def api_ask(q: str = "", history: list[str] = Query(default=[])):
        try:
            answer = startup.wait().ask(q, history)
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(answer_json(answer))

    @app.get("/api/status")
    def api_status():
        if not startup.ready:
            return JSONResponse({"ready": False, "state": startup.state}, status_code=503)
        assistant = startup.assistant
        assistant.refresh()
        return {"ready": True, "state": "ready", "index_version": assistant.index_version,
                "chunks": len(assistant.searcher.index.chunks)}

    ui = build_ui(startup, feedback_path or settings.feedback_file)
    # No file is ever served or accepted through Gradio: block every path (the Guard refuses the
    # file and upload routes before Gradio sees them; this is the second line).
    app = gr.mount_gradio_app(app, ui, path="/", css=CSS, footer_links=[], blocked_paths=[str(Path("/").resolve())],
                              max_file_size=1)
    ui.has_launched = True  # mounted apps skip Gradio's own path checks until then
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
