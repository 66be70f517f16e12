"""The real chat in a real browser: `cqqa serve` started as a process, driven by Playwright in
Debian's headless Chromium, over a temporary corpus (the two articles plus one with HTML/script
inside it). A screenshot is saved to test-output/browser/."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from cqqa.textnorm import fold

from helpers import DOCS_SRC, ROOT
from helpers import free_port, start_process, stop_process  # the browser fixture: conftest.py

pytestmark = pytest.mark.browser  # a real server with the real model, driven in Chromium

OUTPUT = ROOT / "test-output" / "browser"
WAIT_MS = 90_000

# An article that tries to run code wherever its text is shown: title, passage, article page.
HOSTILE = (
    "水晶电池测试工厂<script>window.__pwned = 'title-script';</script>\n"
    "重庆水晶电池测试工厂宣布年产能为十万套<img src=\"x\" onerror=\"window.__pwned='img'\">，计划明年投产。\n"
    "该工厂负责人表示，${window.__pwned='template'}水晶电池{{7*7}}将首先供应本地车企<script>window.__pwned='script'</script>。\n"
)

# An article whose LaTeX would cover the chat with a black box and hide a digit ("五" drawn over
# in white): math must be shown as the text it is.
MATH = ("金属电池工厂\n重庆金属电池工厂的总投资为$$\\llap{\\color{white}\\rule{1em}{1em}}$$五十亿元，"
        "$$\\rule{3000px}{3000px}$$预计明年建成投产。\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("web")
    source = work / "docs_src"
    shutil.copytree(DOCS_SRC, source)
    (source / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (source / "math.txt").write_text(MATH, encoding="utf-8")
    (work / "index").mkdir()  # the articles' own refusal decision, as `cqqa serve` uses it for docs_src
    shutil.copy(ROOT / "index" / "decision.json", work / "index" / "decision.json")
    port = free_port()
    feedback = work / "feedback.jsonl"
    command = [sys.executable, "-m", "cqqa.cli", "serve", "--port", str(port), "--source", str(source),
               "--index", str(work / "index"), "--feedback", str(feedback)]
    # no translation cache: a question asked again must be translated again, so that a follow-up
    # can be asked during its translation (test_a_question_asked_while_...)
    env = {"CQQA_LLM_BASE_URL": "", "CQQA_READER": "auto", "CQQA_TRANSLATION_CACHE": "0",
           "CQQA_CONVERSATIONS_FILE": str(work / "conversations" / "conversations.sqlite3")}
    running = {"proc": start_process(command, "is ready at", timeout=300, env=env)}

    def restart():  # the same server again, same port and files (test_a_restart_keeps_the_conversation)
        stop_process(running["proc"])
        running["proc"] = start_process(command, "is ready at", timeout=300, env=env)
        return running["proc"]

    yield {"url": f"http://127.0.0.1:{port}/", "feedback": feedback, "log": running["proc"].lines,
           "restart": restart, "conversations": work / "conversations" / "conversations.sqlite3"}
    stop_process(running["proc"])


@pytest.fixture(scope="module")
def page(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(server["url"], wait_until="domcontentloaded")  # not networkidle: font requests never settle offline
    page.wait_for_selector("#cqqa-question textarea", timeout=WAIT_MS)
    page.server_log = server["log"]
    yield page
    context.close()


def ask(page, question: str) -> str:
    """Ask, wait until the answer is complete (the sources panel is replaced), return its text."""
    page.wait_for_selector("#cqqa-sources", state="attached", timeout=WAIT_MS)  # Gradio renders it after the textarea
    bots = page.locator("#cqqa-chat [data-testid='bot']")
    before = bots.count()
    page.evaluate("document.querySelector('#cqqa-sources').dataset.stale = '1'")
    page.fill("#cqqa-question textarea", question)
    page.keyboard.press("Enter")
    try:
        page.wait_for_function(
            """n => document.querySelectorAll("#cqqa-chat [data-testid='bot']").length > n
                   && document.querySelector('#cqqa-sources .cqqa-sources')
                   && !document.querySelector('#cqqa-sources').innerText.includes('Sources of the answer appear')""",
            arg=before, timeout=WAIT_MS)
        page.wait_for_function("n => !document.querySelector('#cqqa-chat').innerText.trim().endsWith('…')",
                               arg=before, timeout=WAIT_MS)
        wait_until_translated(page)
    except Exception as exc:  # say what the page and the server were doing, not only "timeout"
        chat = page.locator("#cqqa-chat").inner_text()[-1500:]
        log = "".join(getattr(page, "server_log", []))[-3000:]
        raise AssertionError(f"no complete answer to {question!r}: {exc}\n--- chat:\n{chat}\n--- server:\n{log}")
    return bots.nth(before).inner_text()


def wait_until_translated(page) -> None:
    """The reader writes under each quote after the answer appears; wait until it has finished."""
    page.wait_for_function("""() => { const t = document.querySelector('#cqqa-chat').innerText;
                                      return !t.includes('(translation waiting)') && !t.includes('(translating,'); }""",
                           timeout=WAIT_MS)


def wait_for_sources(page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('#cqqa-sources').innerText.includes(t)", arg=text,
                           timeout=WAIT_MS)


def test_answer_cites_the_passage_shown_in_the_sources_panel(page):
    answer = ask(page, "what did Yin Qi say about AI 2.0")
    wait_for_sources(page, "2.0时代")
    assert "[1]" in answer
    # the reader's English appears under the quote, labelled and checked
    quote_at = answer.index("解决智力问题的2.0时代")
    translated = answer.find("machine translation; numbers and names match the source]", quote_at)
    assert translated > quote_at, answer
    assert "Yin Qi" in answer[translated:]
    first = page.locator("#cqqa-sources .cqqa-cite").first
    assert first.locator(".cqqa-n").inner_text() == "[1]"
    assert "解决智力问题的2.0时代" in first.locator("mark").first.inner_text()  # the quoted sentence, highlighted


def test_follow_up_uses_the_conversation(page):
    ask(page, "And what did he say about the future of cars?")
    wait_for_sources(page, "超级空间和全能伙伴")
    assert "超级空间和全能伙伴" in page.locator("#cqqa-sources .cqqa-cite").first.inner_text()


def test_source_link_opens_the_article_at_the_passage(page):
    with page.context.expect_page() as opened:
        page.locator("#cqqa-sources .cqqa-open").first.click()
    article = opened.value
    article.wait_for_selector("mark#passage", timeout=WAIT_MS)
    assert "超级空间和全能伙伴" in article.locator("mark#passage").inner_text()
    box = article.locator("mark#passage").bounding_box()
    assert 0 <= box["y"] < 1000, "the page is scrolled to the passage"
    assert article.locator("h1").inner_text() == "未来已来 强化AI赋能迎接智能汽车时代"
    article.close()


def test_thumbs_up_is_saved_with_question_answer_and_citations(page, server):
    cited = page.locator("#cqqa-sources .cqqa-cite").evaluate_all("els => els.map(e => e.dataset.chunk)")
    page.locator("#cqqa-chat button[aria-label='Like']").last.click()
    deadline = time.monotonic() + 20
    while not server["feedback"].exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    row = json.loads(server["feedback"].read_text(encoding="utf-8").splitlines()[-1])
    assert row["liked"] is True
    assert row["question"] == "And what did he say about the future of cars?"
    assert row["history"] == ["what did Yin Qi say about AI 2.0"]
    assert row["cited"] == cited and "[1]" in row["answer"]


@pytest.mark.parametrize("question, said, heading", [
    ("How many employees does Seres have?", "The articles do not say this. The closest is the",
     "Closest passages: they do not say it"),
    ("赛力斯有多少名员工？", "文章中没有说到这一点。最接近的是《", "最接近的段落：并没有说到"),
])
def test_a_near_miss_says_the_articles_do_not_say_it_and_links_the_closest_article(page, question, said, heading):
    """Seres is in the articles, its head count is not: the reply says so in the asker's language,
    names the closest article, and shows its passages as the closest text, never as citations,
    each with a link that opens the article at that passage."""
    answer = ask(page, question)
    assert said in answer, answer
    assert "[1]" not in answer
    wait_for_sources(page, heading)
    assert page.locator("#cqqa-sources .cqqa-cite").count() == 0
    related = page.locator("#cqqa-sources .cqqa-related")
    assert related.count() >= 1
    link = related.first.locator("a.cqqa-open")
    assert "/article/" in (link.get_attribute("href") or "") or (link.get_attribute("href") or "").startswith("article/")
    with page.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.wait_for_selector("#passage", timeout=WAIT_MS)
    title = article.locator("h1").inner_text()
    # the named article is the one linked (the reply writes its title in the asker's script)
    assert title and (fold(title) in fold(answer) or "report" in answer), (title, answer)
    article.close()


def test_a_question_asked_right_after_a_like_is_answered(page, server):
    """A queued like event finishing while the next question joins the queue left that question
    pending for ever in Gradio 6.31 (14 of 60 like-then-ask cycles hung; the like handler now runs
    unqueued, 0 of 60). Ten cycles, each asking as soon as the vote is on disk."""
    for n in range(10):
        rows = votes(server)
        page.locator("#cqqa-chat button[aria-label='Like']").last.click()
        deadline = time.monotonic() + 20
        while votes(server) == rows:
            assert time.monotonic() < deadline, "the vote was not saved"
            time.sleep(0.02)
        answer = ask(page, f"How many employees does Seres have? ({n})")
        assert "The articles do not say this" in answer


def test_clicking_an_earlier_answer_shows_its_sources(page):
    """The sources panel follows the answer the user clicks, not only the latest one."""
    assert "2.0时代" not in page.locator("#cqqa-sources").inner_text()
    page.locator("#cqqa-chat [data-testid='bot']").first.click()  # the first answer: Yin Qi on AI 2.0
    wait_for_sources(page, "2.0时代")
    assert "解决智力问题的2.0时代" in page.locator("#cqqa-sources .cqqa-cite").first.inner_text()


def votes(server) -> int:
    feedback = server["feedback"]
    return len(feedback.read_text(encoding="utf-8").splitlines()) if feedback.exists() else 0


def test_html_and_script_in_a_source_never_execute(page):
    page.locator("#cqqa-clear").click()
    page.wait_for_function("!document.querySelector(\"#cqqa-chat [data-testid='bot']\")", timeout=WAIT_MS)
    answer = ask(page, "水晶电池测试工厂的年产能是多少？")
    wait_for_sources(page, "十万套")
    assert "十万套<img src=\"x\" onerror=" in answer  # quoted as text, not as markup
    panel = page.locator("#cqqa-sources").inner_text()
    assert "<img src=\"x\" onerror=" in panel and "<script>" in panel  # shown as text
    assert page.locator("#cqqa-sources img, #cqqa-sources script, #cqqa-chat img[src='x']").count() == 0
    with page.context.expect_page() as opened:
        page.locator("#cqqa-sources .cqqa-open").first.click()
    article = opened.value
    article.wait_for_selector("mark#passage", timeout=WAIT_MS)
    assert "<script>" in article.locator("h1").inner_text()
    assert article.locator("img, body script").count() == 0
    time.sleep(1)  # give an image error handler every chance to fire
    assert article.evaluate("window.__pwned") is None
    article.close()
    assert page.evaluate("window.__pwned") is None
    assert not page.errors


def test_latex_in_a_source_is_shown_as_text_and_hides_nothing(page):
    clear(page)
    answer = ask(page, "金属电池工厂的总投资是多少？")
    assert "五十亿元" in answer and "\\rule{3000px}{3000px}" in answer, answer  # the text as written
    assert page.locator("#cqqa-chat .katex, #cqqa-chat math").count() == 0  # nothing typeset
    widest = page.evaluate("""() => Math.max(...[...document.querySelectorAll('#cqqa-chat *')]
                                            .map(e => e.getBoundingClientRect().width))""")
    assert widest < 1400  # no 3000px box over the chat


def test_a_page_on_another_local_port_cannot_keep_conversations(server, browser, tmp_path):
    """25 <img src=".../api/ask?q=..."> on a page served from another port of 127.0.0.1 (a
    "same-site" request to the browser): Chromium sends them, the server keeps nothing."""
    import http.server
    import sqlite3
    import threading
    import urllib.parse

    def kept() -> int:
        with sqlite3.connect(f"file:{server['conversations']}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]

    images = "".join(f'<img src="{server["url"]}api/ask?{urllib.parse.urlencode({"q": f"长安汽车销量{i}"})}" '
                     'onerror="window.failed = (window.failed || 0) + 1">' for i in range(25))
    (tmp_path / "index.html").write_text(f"<!doctype html><body>{images}</body>", encoding="utf-8")
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(tmp_path))  # noqa: E731
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    before = kept()
    context = browser.new_context()
    try:
        attacker = context.new_page()
        attacker.goto(f"http://127.0.0.1:{other.server_address[1]}/index.html", wait_until="domcontentloaded")
        attacker.wait_for_function("window.failed === 25", timeout=WAIT_MS)  # every request answered, refused
    finally:
        context.close()
        other.shutdown()
    assert kept() == before


def clear(page) -> None:
    page.locator("#cqqa-clear").click()
    page.wait_for_function("!document.querySelector(\"#cqqa-chat [data-testid='bot']\")", timeout=WAIT_MS)


def test_every_example_question_is_answered_not_refused(page):
    from cqqa.serve.site import from_file

    EXAMPLES = from_file(DOCS_SRC)["examples"]  # the chat's examples over these articles (docs_src/site.toml)
    assert len(EXAMPLES) >= 3
    for n, question in enumerate(EXAMPLES, start=1):
        clear(page)
        page.get_by_role("button", name=f"Select example {n}: {question}").click()
        page.wait_for_function("""() => { const b = document.querySelector("#cqqa-chat [data-testid='bot']");
                                          return b && !b.innerText.trim().endsWith('…'); }""", timeout=WAIT_MS)
        wait_for_sources(page, "[1]")
        wait_until_translated(page)
        answer = page.locator("#cqqa-chat [data-testid='bot']").first.inner_text()
        assert "[1]" in answer and "do not say this" not in answer and "没有说到" not in answer, (question, answer)


def test_example_question_on_the_empty_chat_and_screenshot(page):
    clear(page)
    page.get_by_role("button", name="Select example 3: 長安汽車今年前三季度銷量多少？").click()
    page.wait_for_selector("#cqqa-chat [data-testid='bot']", timeout=WAIT_MS)
    wait_for_sources(page, "206.6萬輛")
    assert "206.6萬輛" in page.locator("#cqqa-chat [data-testid='bot']").first.inner_text()
    ask(page, "what did Yin Qi say about AI 2.0")
    wait_for_sources(page, "2.0时代")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "chat.png"), full_page=True)
    assert (OUTPUT / "chat.png").stat().st_size > 10_000


def test_a_question_asked_while_an_answer_is_translated_is_answered_next(page):
    """Asked while the reader was still translating the previous answer, a question used to vanish:
    the box was emptied by the streaming answer and Gradio ignored a second submission while the
    first ran (issue 23, 3 of 3). Ten times: ask in English, ask again during its translation."""
    follow_ups = ["And what about its overseas sales? ({n})", "它的海外销量呢？（{n}）"]
    for n in range(10):
        users = page.locator("#cqqa-chat [data-testid='user']")
        bots = page.locator("#cqqa-chat [data-testid='bot']")
        before = bots.count()
        page.fill("#cqqa-question textarea", f"What is Changan's sales target for 2030? ({n})")
        page.keyboard.press("Enter")
        page.wait_for_function(
            """n => { const b = document.querySelectorAll("#cqqa-chat [data-testid='bot']");
                      return b.length > n && /\\(translation waiting\\)|\\(translating,/.test(b[b.length - 1].innerText); }""",
            arg=before, timeout=WAIT_MS)
        follow_up = follow_ups[n % 2].format(n=n)
        page.fill("#cqqa-question textarea", follow_up)
        page.keyboard.press("Enter")
        translating = page.locator("#cqqa-chat").inner_text()
        assert "(translation waiting)" in translating or "(translating," in translating, "asked too late to test"
        page.wait_for_function(
            """([n, q]) => { const u = document.querySelectorAll("#cqqa-chat [data-testid='user']");
                             const b = document.querySelectorAll("#cqqa-chat [data-testid='bot']");
                             return b.length >= n + 2 && u[u.length - 1].innerText.includes(q)
                                    && !b[b.length - 1].innerText.trim().endsWith('…'); }""",
            arg=[before, follow_up], timeout=WAIT_MS)
        wait_until_translated(page)
        assert users.last.inner_text().strip() == follow_up
        answer = bots.last.inner_text()
        assert bots.count() == before + 2 and ("[1]" in answer or "The articles do not say this" in answer), answer


def past_conversations(page) -> list[str]:
    """The titles in the 'Past conversations' list (it is opened and closed again)."""
    page.click("#cqqa-past input")
    page.wait_for_selector("#cqqa-past [role='option']", timeout=WAIT_MS)
    titles = page.locator("#cqqa-past [role='option']").all_inner_texts()
    page.keyboard.press("Escape")
    page.wait_for_selector("#cqqa-past [role='option']", state="detached", timeout=WAIT_MS)  # closed,
    page.locator("#cqqa-past input").blur()  # and left: a click on the still-focused box would not open it again
    return [t.replace("✓", "").strip() for t in titles]


def open_past(page, title: str) -> None:
    """Choose a past conversation by (the start of) its title, as a keyboard user does: type to
    filter the list, then pick the first match."""
    page.click("#cqqa-past input")
    page.fill("#cqqa-past input", title)
    page.wait_for_function("""t => [...document.querySelectorAll("#cqqa-past [role='option']")]
                                     .some(e => e.innerText.includes(t))""", arg=title, timeout=WAIT_MS)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("t => document.querySelector('#cqqa-past input').value.startsWith(t)", arg=title,
                           timeout=WAIT_MS)


def test_a_reload_keeps_the_conversation_and_lists_it(page):
    clear(page)
    ask(page, "长安汽车今年前三季度销量多少？")
    ask(page, "它的海外销量呢？")
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function("""() => { const u = document.querySelectorAll("#cqqa-chat [data-testid='user']");
                                      return u.length == 2 && u[1].innerText.includes('它的海外销量呢'); }""",
                           timeout=WAIT_MS)
    assert "长安汽车今年前三季度销量多少" in page.locator("#cqqa-chat [data-testid='user']").first.inner_text()
    wait_for_sources(page, "Link to this answer")  # the last answer's sources, as they were
    assert page.locator("#cqqa-sources .cqqa-cite").count() >= 1
    assert any(t.startswith("长安汽车今年前三季度销量多少？") and "2 answers" in t for t in past_conversations(page))
    follow_up = ask(page, "它的新能源汽车销量呢？")  # the conversation goes on after the reload
    assert "[1]" in follow_up


def test_a_shared_answer_link_shows_the_answer_and_its_citations(page, browser):
    link = page.locator("#cqqa-sources .cqqa-share a").get_attribute("href")
    assert link.startswith("answer/")
    other = browser.new_context()  # the person the link is sent to: another browser
    shared = other.new_page()
    reply = shared.goto(page.url.rstrip("/") + "/" + link, wait_until="domcontentloaded")
    assert reply.status == 200 and "default-src 'none'" in reply.headers["content-security-policy"]
    assert shared.locator("h1").inner_text() == "它的新能源汽车销量呢？"
    assert "[1]" in shared.locator("pre.answer").inner_text()
    assert shared.locator(".cite").count() >= 1 and shared.locator(".cite mark").count() >= 1
    with shared.expect_navigation():
        shared.locator(".cite a").first.click()  # into the article at the passage
    shared.wait_for_selector("mark#passage", timeout=WAIT_MS)
    missing = shared.goto(page.url.rstrip("/") + "/answer/" + "0" * 32, wait_until="domcontentloaded")
    assert missing.status == 404 and "no such answer" in shared.locator("body").inner_text()
    other.close()


def test_another_browser_does_not_list_this_browser_s_conversations(page, browser, server):
    other = browser.new_context()
    theirs = other.new_page()
    theirs.goto(server["url"], wait_until="domcontentloaded")
    theirs.wait_for_selector("#cqqa-question textarea", timeout=WAIT_MS)
    ask(theirs, "张兴海怎么看软件定义汽车？")  # asked nowhere else in this module
    assert [t.split(" · ")[0] for t in past_conversations(theirs)] == ["张兴海怎么看软件定义汽车？"]
    other.close()
    mine = past_conversations(page)
    assert mine and not any("张兴海怎么看软件定义汽车" in t for t in mine)


def test_a_past_conversation_reopens_and_can_be_deleted(page):
    clear(page)
    ask(page, "赛力斯今年1-8月的新能源汽车销量是多少？")
    titles = past_conversations(page)
    assert titles[0].startswith("赛力斯今年1-8月") and any(t.startswith("长安汽车今年前三季度") for t in titles)
    open_past(page, "长安汽车今年前三季度")
    page.wait_for_function("""() => document.querySelectorAll("#cqqa-chat [data-testid='user']").length == 3""",
                           timeout=WAIT_MS)
    assert "它的新能源汽车销量呢" in page.locator("#cqqa-chat").inner_text()
    page.click("#cqqa-delete")
    page.wait_for_function("!document.querySelector(\"#cqqa-chat [data-testid='bot']\")", timeout=WAIT_MS)
    titles = past_conversations(page)
    assert not any(t.startswith("长安汽车今年前三季度") for t in titles) and titles[0].startswith("赛力斯今年1-8月")


def test_a_second_person_is_answered_while_the_first_one_s_answer_is_translated(page, browser, server):
    """Two people at once: the page used to answer one question at a time (Gradio's default
    concurrency of one per event), so B waited for A's whole answer, translations included."""
    other = browser.new_context()
    theirs = other.new_page()
    theirs.goto(server["url"], wait_until="domcontentloaded")
    theirs.wait_for_selector("#cqqa-question textarea", timeout=WAIT_MS)
    clear(page)
    page.fill("#cqqa-question textarea", "What is Changan's sales target for 2030? (two people)")
    page.keyboard.press("Enter")
    page.wait_for_function("""() => /\\(translation waiting\\)|\\(translating,/.test(
                                  document.querySelector('#cqqa-chat').innerText)""", timeout=WAIT_MS)
    theirs.fill("#cqqa-question textarea", "长安汽车今年前三季度销量多少？（另一个人）")
    theirs.keyboard.press("Enter")
    theirs.wait_for_function("""() => { const b = document.querySelector("#cqqa-chat [data-testid='bot']");
                                        return b && b.innerText.includes('206.6万辆'); }""", timeout=WAIT_MS)
    still = page.locator("#cqqa-chat").inner_text()
    assert "(translation waiting)" in still or "(translating," in still, "B was answered only after A's translations"
    other.close()
    wait_until_translated(page)


def test_an_uploaded_pdf_is_asked_about_and_cited_with_its_page(page, tmp_path):
    """Add an article from the chat (its own page, not Gradio's upload), then ask about it: the
    citation names its page and opens the article at the passage, page breaks marked."""
    import pypdf

    writer = pypdf.PdfWriter()  # three pages of a real 2018 quarterly report; the lawsuit is on the third
    for number in (4, 5, 6):
        writer.add_page(pypdf.PdfReader(ROOT / "tests" / "data" / "samples" / "pdf" / "issue-67-example.pdf").pages[number])
    report = tmp_path / "东北电气2018一季报.pdf"
    with open(report, "wb") as out:
        writer.write(out)
    added = add_article(page, report)
    assert "3 pages" in added["state"] and "东北电气2018一季报" in added["ready"]  # its title: the file's name
    article = ask_and_open_citation(page, "沈阳市铁西区国有资产监督管理局为什么起诉东北电气？", 3, "职工安置费")
    assert "p. 3" in article.locator(".meta").inner_text()
    assert article.locator("#page-2").count() == 1 and article.locator("#page-3").count() == 1
    article.close()


def add_article(page, path: Path, reading: str = "") -> dict:
    """Add a file from the chat's own page, wait until it is indexed: its state and ready lines
    (and, when `reading` is given, first for a progress line that holds it)."""
    with page.context.expect_page() as opened:
        page.locator("#cqqa-add").click()
    add = opened.value
    add.wait_for_selector("#cqqa-add-file", timeout=WAIT_MS)
    add.set_input_files("#cqqa-add-file", str(path))
    add.click("#cqqa-add-submit")
    if reading:
        add.wait_for_selector(f"#cqqa-add-state.indexing:has-text('{reading}')", timeout=WAIT_MS)
    add.wait_for_selector("#cqqa-add-ready", timeout=3 * WAIT_MS)  # the page reloads itself while indexing
    added = {"state": add.locator("#cqqa-add-state").inner_text(), "ready": add.locator("#cqqa-add-ready").inner_text()}
    add.close()
    return added


def ask_and_open_citation(page, question: str, page_number: int, said: str):
    """Ask on an empty chat; the first citation is on `page_number` and holds `said`; the article
    it opens, at the passage (the caller closes it)."""
    clear(page)  # and wait until the page is empty: ask() counts the answers already shown
    ask(page, question)
    wait_for_sources(page, f"p. {page_number}")
    cite = page.locator("#cqqa-sources .cqqa-cite").first
    assert f"p. {page_number}" in cite.locator(".cqqa-cite-head").inner_text() and said in cite.inner_text()
    with page.context.expect_page() as opened:
        cite.locator(".cqqa-open").click()
    article = opened.value
    article.wait_for_selector("mark#passage", timeout=WAIT_MS)
    # the article page shows the source's own lines: a PDF's line may break inside the words said
    assert said in "".join(article.locator("mark#passage").inner_text().split())
    return article


def test_a_scanned_pdf_added_from_the_chat_is_read_by_ocr_and_cited_with_its_page(page, tmp_path):
    """A PDF of page images only (no text layer): two real pages, scanned at 144 dpi. It is read
    by OCR when added; the answer quotes the second page and the citation opens it there."""
    import pypdfium2 as pdfium

    samples = ROOT / "tests" / "data" / "samples" / "pdf"
    images = [pdfium.PdfDocument(str(samples / name))[0].render(scale=2).to_pil().convert("RGB")
              for name in ("test_4182.pdf", "complex_layout.pdf")]
    scan = tmp_path / "扫描件.pdf"
    images[0].save(scan, "PDF", save_all=True, append_images=images[1:], resolution=144)
    assert "2 pages" in add_article(page, scan, reading="OCR, page")["state"]  # the form answers as OCR starts
    article = ask_and_open_citation(page, "阳阳生病时烧到了多少度？", 2, "39.5")
    assert article.locator("#page-2").count() == 1
    article.close()


def test_a_restart_keeps_the_conversation(page, server):
    """Last in this module: the server is stopped and started again on the same port and files."""
    stored = page.evaluate("() => JSON.stringify(localStorage)")
    open_past(page, "赛力斯今年1-8月")
    # that conversation on the page (the one before had one question too: a count alone passes at once,
    # and the restart then raced the browser keeping which conversation is open) ...
    page.wait_for_function("""() => { const u = document.querySelectorAll("#cqqa-chat [data-testid='user']");
                                      return u.length == 1 && u[0].innerText.includes('赛力斯今年1-8月'); }""",
                           timeout=WAIT_MS)
    # ... and kept by the browser (gr.BrowserState writes localStorage after the page shows it)
    page.wait_for_function("s => JSON.stringify(localStorage) !== s", arg=stored, timeout=WAIT_MS)
    server["restart"]()
    page.reload(wait_until="domcontentloaded")
    page.wait_for_function("""() => { const u = document.querySelectorAll("#cqqa-chat [data-testid='user']");
                                      return u.length == 1 && u[0].innerText.includes('赛力斯今年1-8月'); }""",
                           timeout=WAIT_MS)
    assert "27.9万辆" in page.locator("#cqqa-chat [data-testid='bot']").first.inner_text()
    assert any(t.startswith("赛力斯今年1-8月") for t in past_conversations(page))
