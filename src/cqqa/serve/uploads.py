"""Adding an article from the chat: /add (a form, then the progress page) and /api/articles (JSON).

    GET  /add                 the form: choose a file (any of ingest/formats' suffixes: text, web page, PDF, Word, image)
    POST /add                 add it (multipart, field "file"; "replace=1" to replace an article of
                              that name); redirects to the progress page, which reloads itself
                              until the article can be asked about
    GET  /add/<job>           the progress page of one added file
    POST /api/articles        the same as JSON: 202 {"job", "status"}; 409 when it would replace
    GET  /api/articles/<job>  {"state": "indexing"|"ready"|"failed", "message", "doc", "index_version",
                              "ocr_pages_done", "ocr_pages"}

Nothing goes through Gradio's upload route (the Guard refuses it). The body's size is checked
from Content-Length before it is read, and the body is read only up to that size (no chunked
bodies), with a time limit when it stalls; the file is checked by ingest/upload.py (type by content,
text extracted, size) before it is stored; then the index is rebuilt incrementally in one
background thread (one build at a time), and the chat picks up the new version between
requests. A file that needs OCR (a scan, an image) is read in the background instead: the
answer comes as OCR starts, and the progress page counts its pages and the time left. A form posted from another site is refused by the Guard (guard.py). Off
unless the server listens on loopback or was started with --allow-uploads.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request  # at module level: FastAPI resolves the handlers' annotations here
from starlette.formparsers import MultiPartException, MultiPartParser

from cqqa.errors import CqqaError
from cqqa.ingest.formats import SUFFIXES
from cqqa.ingest.upload import UploadRefused, accepted_name, check, refuse_existing, store
from cqqa.ingest.sources import doc_id_of
from cqqa.serve.guard import text_page
from cqqa.serve.render import escape

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields
IDLE_SECONDS = 10  # a body that stops for this long is refused (408) and its connection let go
WHOLE_SECONDS = 300  # 32 MB at ~110 KB/s
MAX_JOBS = 50
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


@dataclass
class Job:
    name: str
    doc: str
    state: str = "indexing"  # indexing | ready | failed
    message: str = "saved; indexing"
    index_version: str = ""
    pages: int = 0
    title: str = ""
    pages_done: int = 0  # pages OCR has read, of pages_total (a scan, read in the background)
    pages_total: int = 0
    warnings: list[str] = field(default_factory=list)  # what reading it warned of: a page OCR could not read


def left(done: int, total: int, seconds: float) -> str:
    """', about N s left' at the pace of the pages read so far ('' before the first)."""
    if done == 0 or done >= total:
        return ""
    remaining = seconds / done * (total - done)
    return f", about {remaining / 60:.0f} min left" if remaining >= 90 else f", about {remaining:.0f} s left"


class Uploads:
    """Accepts files into `folder` (inside the source folder) and indexes them, one at a time."""

    def __init__(self, settings, startup, enabled: bool, why_off: str = ""):
        self.settings, self.startup, self.enabled, self.why_off = settings, startup, enabled, why_off
        self.folder = settings.uploads_dir or settings.source_dir
        if enabled and not self.folder.resolve().is_relative_to(settings.source_dir.resolve()):
            self.enabled, self.why_off = False, (f"adding articles is off: the uploads folder {self.folder} "
                                                 f"(CQQA_UPLOADS_DIR) is not inside the source folder "
                                                 f"{settings.source_dir}, so nothing added there would be indexed")
        self.jobs: dict[str, Job] = {}
        self._build = threading.Lock()

    def add(self, raw: bytes, filename: str, replace: bool) -> str:
        """Check, store and index the file in the background; the job's id. UploadRefused says why
        not: the answer waits until the file is read and stored (after any file being read before
        it), unless it needs OCR (a scan): then the job goes on alone as OCR starts, its progress
        page says how far (page k of n, the time left) and a refusal arrives there."""
        settings = self.settings
        name = accepted_name(filename, len(raw), settings.max_source_mb)
        if not replace:
            refuse_existing(self.folder, name)
        job_id = secrets.token_hex(8)
        job = Job(name, doc_id_of(self.folder / name, settings.source_dir), message="reading the file")
        answered, refused = threading.Event(), []
        threading.Thread(target=self._read_and_index, args=(job, raw, replace, answered, refused),
                         name="cqqa-upload", daemon=True).start()
        answered.wait()
        if refused:
            raise refused[0]
        self.jobs[job_id] = job
        while len(self.jobs) > MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))
        return job_id

    def _read_and_index(self, job: Job, raw: bytes, replace: bool, answered: threading.Event, refused: list) -> None:
        """Read the file (ingest/bounded.py), store it, index it; `answered` is set once the POST
        may answer: when the file is stored, refused (put in `refused`) or read in the background."""
        settings, started = self.settings, time.monotonic()

        def progress(done: int, total: int) -> None:
            job.pages_total, job.pages_done = total, done
            job.message = f"reading: OCR, page {min(done + 1, total)} of {total}" + left(done, total,
                                                                                        time.monotonic() - started)
            answered.set()  # a scan: the POST answers now, the job page follows it

        try:
            name, doc, warnings = check(raw, job.name, settings.max_source_mb, settings.extract_memory_mb,
                                        settings.extract_seconds, settings.ocr_memory_mb, progress)
            store(raw, name, self.folder, replace)
        except Exception as exc:  # noqa: BLE001 - the POST waits on `answered`: every failure must set it
            if not isinstance(exc, UploadRefused):
                exc = UploadRefused(f"{job.name!r} could not be added ({type(exc).__name__})", 500)
            if not answered.is_set():
                refused.append(exc)
                answered.set()
            job.state, job.message = "failed", f"failed: {exc}"
            return
        job.pages, job.title, job.message = doc.meta.get("pages", 0), doc.title, "saved; indexing"
        job.warnings = warnings  # they name the file, never a server path (the child reads it as NAME)
        answered.set()
        self._index(job)

    def _index(self, job: Job) -> None:
        from cqqa.index.build import build_index

        with self._build:
            try:
                assistant = self.startup.wait()
                job.message = "indexing: extracting, chunking and embedding the new article"
                report = build_index(self.settings, embedder_factory=lambda: assistant.embedder)
                assistant.refresh()
                job.index_version = report.version
                job.state, job.message = "ready", (f"ready: {report.chunks} passages in the index; "
                                                   f"{report.embedded_chunks} new ones embedded")
            except (CqqaError, OSError) as exc:
                job.state, job.message = "failed", f"failed: {exc}"


def page(body: str, status: int = 200, refresh: bool = False):
    """An /add page: nothing runs on it (no script), forms post only to this server."""
    meta = '<meta http-equiv="refresh" content="2">' if refresh else ""
    return text_page(f'<!doctype html><html><head><meta charset="utf-8">{meta}<title>Add an article · cqqa'
                     f"</title><style>{PAGE_STYLE}</style></head><body><h1>Add an article</h1>{body}"
                     '<p><a href="/">← back to the chat</a></p></body></html>', status, PAGE_CSP,
                     # not no-referrer (the Guard's default): with it a browser posts the form with
                     # "Origin: null", which cannot be told from a foreign page
                     {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"})


async def received(uploads: Uploads, request) -> tuple[bytes, str, bool]:
    """The posted file, its name and whether to replace; UploadRefused before reading a body that
    is too big, or when adding is off."""
    if not uploads.enabled:
        raise UploadRefused(uploads.why_off, 403)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or "transfer-encoding" in request.headers:
        raise UploadRefused("send the file with a Content-Length (and not chunked)", 411)
    limit = uploads.settings.max_source_mb
    if int(length) > limit * 2**20 + FORM_OVERHEAD:
        raise UploadRefused(f"the file is over the limit of {limit} MB for one article (CQQA_MAX_SOURCE_MB)", 413)
    try:
        form = await MultiPartParser(request.headers, body(request, int(length)), max_files=1, max_fields=4).parse()
    except MultiPartException as exc:
        raise UploadRefused(f"the form is malformed: {exc.message}") from None
    file = form.get("file")
    if file is None or isinstance(file, str):
        raise UploadRefused('no file: send it as the multipart field "file"')
    return await file.read(), file.filename or "", form.get("replace") == "1"


async def body(request, length: int) -> AsyncIterator[bytes]:
    """The request's body as it arrives, never more than `length` bytes (what Content-Length said,
    already checked against the limit) and refused when it stops for IDLE_SECONDS or takes longer
    than WHOLE_SECONDS: a client that promises more than it sends does not hold the connection."""
    received, chunks = 0, request.stream().__aiter__()
    deadline = time.monotonic() + WHOLE_SECONDS
    while True:
        try:
            chunk = await asyncio.wait_for(anext(chunks), min(IDLE_SECONDS, max(deadline - time.monotonic(), 0.1)))
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadRefused(f"the upload stopped before its end (Content-Length {length} bytes, {received} "
                                "received); send it again", 408) from None
        received += len(chunk)
        if received > length:
            raise UploadRefused("the body is longer than its Content-Length", 400)
        yield chunk


def form(uploads: Uploads, replace: bool = False) -> str:
    return FORM.format(accept=",".join(SUFFIXES), kinds=" ".join(SUFFIXES), limit=uploads.settings.max_source_mb,
                       replace=REPLACE_BOX if replace else "")


def progress_page(uploads: Uploads, job_id: str):
    job = uploads.jobs.get(job_id)
    if job is None:
        return page("<p>No such upload on this server (it restarted, or the link is old).</p>", 404)
    ask = (f'<p id="cqqa-add-ready">You can ask about “{escape(job.title or job.doc)}” now.</p>'
           if job.state == "ready" else "")
    pages = f" · {job.pages} pages" if job.pages else ""
    warned = "".join(f'<p class="warning">{escape(w)}</p>' for w in job.warnings)
    return page(f'<p id="cqqa-add-state" class="{job.state}"><b>{escape(job.name)}</b>{pages}: '
                f"{escape(job.message)}</p>{warned}{ask}", 200, refresh=job.state == "indexing")


def add_upload_routes(app, uploads: Uploads, audit=None) -> None:
    """The routes; `audit` (audit.py) gets a line for every article accepted."""
    from fastapi.responses import JSONResponse, RedirectResponse
    from starlette.concurrency import run_in_threadpool

    from cqqa.serve.access import address_of, user_of

    async def add(request: Request) -> str:
        raw, filename, replace = await received(uploads, request)
        job = await run_in_threadpool(uploads.add, raw, filename, replace)  # extraction takes seconds
        if audit is not None:
            user = user_of(request)
            audit.write(user.name if user else "(no login)", "article replaced" if replace else "article added",
                        address_of(request.scope), file=filename, doc=uploads.jobs[job].doc, job=job)
        return job

    @app.get("/add")
    def add_form():
        return page(form(uploads)) if uploads.enabled else page(f"<p>{escape(uploads.why_off)}</p>", 403)

    @app.post("/add")
    async def add_from_form(request: Request):
        try:  # Post/Redirect/Get: the progress page reloads itself without posting the file again
            return RedirectResponse(f"/add/{await add(request)}", status_code=303)
        except UploadRefused as exc:
            refused = page(f'<p class="error" id="cqqa-add-error">{escape(str(exc))}</p>'
                           f"{form(uploads, exc.status == 409) if uploads.enabled else ''}", exc.status)
            refused.headers["Connection"] = "close"  # the rest of a refused body is not read
            return refused

    @app.get("/add/{job_id}")
    def add_progress(job_id: str):
        return progress_page(uploads, job_id)

    @app.post("/api/articles")
    async def api_add(request: Request):
        try:
            job = await add(request)
        except UploadRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers={"Connection": "close"})
        return JSONResponse({"job": job, "status": f"/api/articles/{job}", "doc": uploads.jobs[job].doc},
                            status_code=202)

    @app.get("/api/articles/{job_id}")
    def api_job(job_id: str):
        job = uploads.jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no upload {job_id!r} on this server"}, status_code=404)
        return {"state": job.state, "message": job.message, "doc": job.doc, "name": job.name,
                "pages": job.pages, "ocr_pages_done": job.pages_done, "ocr_pages": job.pages_total, "warnings": job.warnings,
                "index_version": job.index_version}


FORM = """<form method="post" action="/add" enctype="multipart/form-data">
<p><input type="file" name="file" id="cqqa-add-file" accept="{accept}" required></p>
<p class="hint">{kinds}, up to {limit} MB. The file stays on this server; nothing is sent anywhere else.</p>
{replace}<p><button type="submit" id="cqqa-add-submit">Add the article</button></p></form>"""
REPLACE_BOX = ('<p><label><input type="checkbox" name="replace" value="1" id="cqqa-add-replace"> Replace the '
               "article of that name (the old file is kept in .replaced/)</label></p>")
PAGE_STYLE = """body { font-family: "Noto Sans CJK SC", sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
.error { color: #a00; } .warning { color: #a60; } .ready { color: #060; } .failed { color: #a00; } .hint { color: #666; font-size: .9rem; }"""
