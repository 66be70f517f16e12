"""Adding an article from the chat (ingest/upload.py, serve/uploads.py): the real app (FastAPI +
Gradio behind the Guard) in-process, a real index on disk built with the fake embedder, real
files. Every hostile upload from issue 24 is replayed: nothing outside the source folder is
written, nothing is stored that is not what it claims to be, nothing uploaded ever runs."""

from __future__ import annotations

import dataclasses
import io
import time
import zipfile
from pathlib import Path

import pytest

from fakes import FakeEmbedder
from helpers import fake_corpus

from cqqa.ingest.upload import UploadRefused, check, safe_name, store

pytestmark = pytest.mark.integration  # uploads are read in a child process (ingest/bounded.py)

SAMPLES = Path(__file__).parent / "data" / "samples"
PDF = SAMPLES / "pdf" / "test_4182.pdf"
ARTICLES = {"sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n"}


@pytest.mark.parametrize("given,stored", [
    ("../../outside/evil.txt", "evil.txt"),
    ("..\\..\\windows\\evil.txt", "evil.txt"),
    ("/etc/cron.d/job.txt", "job.txt"),
    (".hidden.txt", "hidden.txt"),
    ("报告 (终稿).PDF", "报告 (终稿).pdf"),
    ("a;rm -rf ~;$(x)`y`.md", "a_rm -rf _(x)_y.md"),  # harmless as a file name; never run
    ("..", "article"),
    ("line\nbreak\r.txt", "linebreak.txt"),
])
def test_safe_name_is_only_a_name(given, stored):
    assert safe_name(given) == stored


def test_check_refuses_what_cannot_be_an_article():
    raw = PDF.read_bytes()
    with pytest.raises(UploadRefused, match="named like a Word .docx document but its content is a PDF") as lie:
        check(raw, "paper.docx", 32)
    assert lie.value.status == 415
    with pytest.raises(UploadRefused, match="over the limit of 1 MB") as big:
        check(raw, "paper.pdf", 1)
    assert big.value.status == 413
    with pytest.raises(UploadRefused, match="not a kind of file cqqa reads"):
        check(b"MZ\x90\x00", "setup.exe", 32)
    name, doc, warnings = check(raw, "../paper.pdf", 32)
    assert name == "paper.pdf" and doc.paged and "洛天依" in doc.text and warnings == []


def test_store_replaces_only_when_told_and_keeps_the_old_file(tmp_path):
    (tmp_path / "report.txt").write_text("旧的文章", encoding="utf-8")
    with pytest.raises(UploadRefused, match="already there") as exists:
        store(PDF.read_bytes(), "report.pdf", tmp_path)  # same article id, another suffix
    assert exists.value.status == 409 and (tmp_path / "report.txt").read_text(encoding="utf-8") == "旧的文章"
    store(PDF.read_bytes(), "report.pdf", tmp_path, replace=True)
    assert not (tmp_path / "report.txt").exists() and (tmp_path / "report.pdf").read_bytes() == PDF.read_bytes()
    kept = list((tmp_path / ".replaced").iterdir())
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "旧的文章"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".replaced", "report.pdf"]  # no partial file left


@pytest.fixture()
def app(tmp_path):
    return make_app(tmp_path)


def make_app(tmp_path, host="127.0.0.1", allow=False):
    from fastapi.testclient import TestClient

    from cqqa.answer.assistant import Assistant
    from cqqa.serve.web import Startup, build_app

    tmp_path.mkdir(parents=True, exist_ok=True)
    settings = fake_corpus(tmp_path, ARTICLES)
    settings = dataclasses.replace(settings, conversations_file=tmp_path / "conv" / "c.sqlite3",
                                   feedback_file=tmp_path / "fb.jsonl", allow_uploads=allow)
    startup = Startup(lambda: Assistant(settings, embedder=FakeEmbedder(), reader=False)).start()
    client = TestClient(build_app(startup, settings, host=host, allowed_hosts=("testserver",)))
    return client, settings


def post(client, name: str, raw: bytes, replace: bool = False, path="/api/articles", headers=None):
    return client.post(path, files={"file": (name, raw)}, data={"replace": "1"} if replace else {},
                       headers=headers or {})


def wait_ready(client, job: str) -> dict:
    for _ in range(300):
        state = client.get(f"/api/articles/{job}").json()
        if state["state"] != "indexing":
            return state
        time.sleep(0.1)
    raise AssertionError("the upload was not indexed in 30 s")


def page_until(client, path: str, text: str, tries: int = 600):
    """The progress page at `path` once it holds `text` (it is fetched every 0.1 s), or the last one."""
    for _ in range(tries):
        page = client.get(path)
        if text in page.text:
            break
        time.sleep(0.1)
    return page


def sources(settings) -> list[str]:
    return sorted(p.relative_to(settings.source_dir).as_posix() for p in settings.source_dir.rglob("*")
                  if p.is_file())


def test_an_uploaded_pdf_is_indexed_and_answered_with_its_page(app):
    client, settings = app
    reply = post(client, "../../数字拟人品.pdf", PDF.read_bytes())
    assert reply.status_code == 202, reply.text
    state = wait_ready(client, reply.json()["job"])
    assert state["state"] == "ready" and state["pages"] == 1 and state["doc"] == "数字拟人品", state
    assert sources(settings) == ["sales.txt", "数字拟人品.pdf"]
    answer = client.get("/api/ask", params={"q": "数字拟人品的成长机制是什么？"}).json()
    cited = [c for c in answer["citations"] if c["doc"] == "数字拟人品"]
    assert cited and cited[0]["page"] == 1, answer
    article = client.get(f"/article/{answer['index_version']}/数字拟人品", params={"start": cited[0]["start"],
                                                                              "end": cited[0]["end"]})
    assert article.status_code == 200 and "p. 1" in article.text and "洛天依" in article.text
    again = post(client, "数字拟人品.pdf", PDF.read_bytes())
    assert again.status_code == 409 and "confirm" in again.json()["error"]
    replaced = post(client, "数字拟人品.pdf", PDF.read_bytes(), replace=True)
    assert replaced.status_code == 202 and wait_ready(client, replaced.json()["job"])["state"] == "ready"
    assert len(list((settings.source_dir / ".replaced").iterdir())) == 1


def test_hostile_uploads_are_refused_and_nothing_is_stored(app, tmp_path):
    client, settings = app
    before = sources(settings)
    huge = client.post("/api/articles", content=b"x" * 64, headers={"content-length": str(100 * 2**20),
                                                                    "content-type": "multipart/form-data; boundary=b"})
    assert huge.status_code == 413 and "limit of 32 MB" in huge.json()["error"]
    assert post(client, "paper.docx", PDF.read_bytes()).status_code == 415  # a PDF that says it is a DOCX
    assert post(client, "notes.pdf", "不是PDF".encode()).status_code == 415
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(1024):  # 1 GB of XML when unzipped, about 1 MB zipped
                member.write(b" " * 2**20)
    refused = post(client, "bomb.docx", bomb.getvalue())
    assert refused.status_code == 415 and "zip bomb" in refused.json()["error"], refused.text
    foreign = post(client, "a.txt", "文章内容足够长的一段中文。".encode(), headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403
    sandboxed = post(client, "a.txt", "文章内容足够长的一段中文。".encode(), headers={"origin": "null"})
    assert sandboxed.status_code == 403  # a sandboxed frame or a no-referrer page elsewhere
    assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 403
    assert sources(settings) == before
    assert not any(p.name in ("bomb.docx", "paper.docx", "notes.pdf", "a.txt") for p in tmp_path.rglob("*"))


def test_scripts_in_uploaded_pages_and_pdfs_never_run(app):
    import pypdf
    from pypdf.actions import JavaScript

    client, settings = app
    page = ("<html><head><script>document.title='pwned'</script><style>p{color:red}</style></head><body>"
            "<nav>首页 新闻 视频</nav><article><p>重庆两江新区今年新建了三十座超级充电站，覆盖主要商圈和高速服务区。</p>"
            "<p>工作人员说，页面里写着 &lt;script&gt;alert(1)&lt;/script&gt; 这样的文字也只是文字。</p></article>"
            "<script>alert('pwned')</script></body></html>")
    reply = post(client, "charging.html", page.encode())
    assert reply.status_code == 202 and wait_ready(client, reply.json()["job"])["state"] == "ready"
    writer = pypdf.PdfWriter(clone_from=PDF)
    writer.add_open_action(JavaScript("app.alert('pwned');"))  # runs when a viewer opens it
    with_js = io.BytesIO()
    writer.write(with_js)
    reply = post(client, "with-js.pdf", with_js.getvalue())
    assert reply.status_code == 202 and wait_ready(client, reply.json()["job"])["state"] == "ready"
    version = client.get("/api/status").json()["index_version"]
    shown = client.get(f"/article/{version}/charging")
    assert "超级充电站" in shown.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<script" not in shown.text and "pwned" not in shown.text
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")
    pdf_page = client.get(f"/article/{version}/with-js")
    assert "洛天依" in pdf_page.text and "app.alert" not in pdf_page.text
    for path in ("/docs_src/with-js.pdf", f"/gradio_api/file={settings.source_dir / 'with-js.pdf'}", "/with-js.pdf"):
        assert b"%PDF" not in client.get(path).content  # the stored file itself is never served


def test_uploads_are_off_when_other_machines_can_reach_the_server(tmp_path):
    client, settings = make_app(tmp_path / "a", host="0.0.0.0")
    page = client.get("/add")
    assert page.status_code == 403 and "--allow-uploads" in page.text
    refused = post(client, "a.txt", "文章内容足够长的一段中文。".encode())
    assert refused.status_code == 403 and "--allow-uploads" in refused.json()["error"]
    assert "cqqa-add" not in client.get("/").text  # and the chat does not offer it
    client, settings = make_app(tmp_path / "b", host="0.0.0.0", allow=True)
    assert client.get("/add").status_code == 200
    assert post(client, "a.txt", "文章内容足够长的一段中文。".encode()).status_code == 202


def test_the_form_page_adds_an_article_and_shows_progress(app):
    client, settings = app
    form = client.get("/add")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert "form-action 'self'" in form.headers["content-security-policy"]
    assert form.headers["referrer-policy"] == "same-origin"  # else Chromium posts the form with Origin: null
    added = post(client, "sales-2.txt", "赛力斯销量\n赛力斯今年前三季度累计销量为30.4万辆。\n".encode(), path="/add")
    assert added.status_code == 200 and "sales-2.txt" in added.text  # after a redirect to /add/<job>
    assert added.url.path.startswith("/add/")  # reloads itself until ready (unless it is ready already)
    assert ('http-equiv="refresh"' in added.text) != ("cqqa-add-ready" in added.text)
    page = page_until(client, added.url.path, "cqqa-add-ready")
    assert "You can ask about" in page.text and 'http-equiv="refresh"' not in page.text
    refused = post(client, "sales-2.txt", "别的内容。".encode(), path="/add")
    assert refused.status_code == 409 and 'name="replace"' in refused.text  # asks to confirm
    assert (settings.source_dir / "sales-2.txt").read_text(encoding="utf-8").startswith("赛力斯销量")


def scan_of(pdf: Path, copies: int) -> bytes:
    """A PDF of page images only (no text layer): `pdf`'s first page, rendered at 144 dpi, `copies` times."""
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(str(pdf))[0].render(scale=2).to_pil().convert("RGB")
    out = io.BytesIO()
    image.save(out, "PDF", save_all=True, append_images=[image] * (copies - 1), resolution=144)
    return out.getvalue()


def test_a_scan_is_read_in_the_background_and_its_job_counts_the_pages(app):
    """The answer comes as OCR starts, not after it (a 300-page scan would hold the form for half
    an hour): the job says which page OCR is on, of how many, then indexes the text."""
    client, settings = app
    reply = post(client, "扫描件.pdf", scan_of(PDF, 3))
    assert reply.status_code == 202, reply.text
    first = client.get(f"/api/articles/{reply.json()['job']}").json()
    assert first["state"] == "indexing" and first["ocr_pages"] == 3 and first["ocr_pages_done"] < 3, first
    assert "OCR, page" in first["message"] and "of 3" in first["message"], first
    assert sources(settings) == ["sales.txt"]  # stored only once it is read
    seen = {first["message"]}
    for _ in range(1200):
        state = client.get(f"/api/articles/{reply.json()['job']}").json()
        seen.add(state["message"])
        if state["state"] != "indexing":
            break
        time.sleep(0.1)
    assert state["state"] == "ready" and state["pages"] == 3 and state["ocr_pages_done"] == 3, state
    assert state["warnings"] == [], state  # every page read (at 1536 MB the child ran out of memory on each)
    assert any(" left" in message for message in seen), seen  # an estimate once a page is read
    assert sources(settings) == ["sales.txt", "扫描件.pdf"]
    answer = client.get("/api/ask", params={"q": "数字拟人品的成长机制是什么？"}).json()
    assert any(c["doc"] == "扫描件" for c in answer["citations"]), answer


def test_an_image_without_text_fails_on_its_progress_page_and_is_not_stored(app):
    from PIL import Image

    client, settings = app
    photo = io.BytesIO()
    Image.linear_gradient("L").resize((800, 600)).convert("RGB").save(photo, "PNG")
    reply = post(client, "car.png", photo.getvalue(), path="/add")  # OCR starts: the form is answered at once
    assert reply.status_code == 200 and reply.url.path.startswith("/add/"), reply.text
    page = page_until(client, reply.url.path, 'class="failed"')
    assert "no text found in this image" in page.text and 'http-equiv="refresh"' not in page.text
    assert sources(settings) == ["sales.txt"]
