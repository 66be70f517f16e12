"""Reading a file nobody vetted (one added from the chat) in a child process with a ceiling on
memory and time, so that no file can take the server's memory or its cores.

A zip bomb whose directory lies about its sizes, XML that expands, a PDF whose few kilobytes
inflate to millions of text operators: in the child each of these meets its address-space limit
(MemoryError) or its time limit (killed), and the file is refused with the reason. A PDF or an
image may need OCR, which needs more memory (OCR_MEMORY_MB) and time: each page OCR finishes
gives the child SECONDS_PER_OCR_PAGE more (it says so on stderr), so a long scan is read while a
file that expands without end is still stopped. The server only
waits (no GIL held), and extractions run one at a time, so at most one child's ceiling is in use.

The child extracts through `sources.extract_once`, which keeps the result in the extraction cache
($CQQA_CACHE_DIR/extracted/): the index build that follows reads the text from there and does not
parse the file again in the server's process. (`cqqa index` over a user's own folder reads in
process: those files are the user's.)

    python -m cqqa.ingest.bounded NAME MEMORY_MB < file-bytes   -> one JSON object on stdout
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from cqqa.ingest.formats import Extracted, SkippedSource

MEMORY_MB = 384  # the child's address space (CQQA_EXTRACT_MEMORY_MB); reading a 1 MB PDF or DOCX peaks near 65 MB
OCR_MEMORY_MB = 3072  # a PDF or an image, which OCR may read (CQQA_OCR_MEMORY_MB): an A3 page reserves 2.2 GB
BASE_SECONDS = 30  # CQQA_EXTRACT_SECONDS, + SECONDS_PER_MB of the file; a 22-page PDF reads in 0.6 s on 2 cores
SECONDS_PER_MB = 4
SECONDS_PER_OCR_PAGE = 20  # more time for each page OCR has finished (≈ 5 s a page on 2 cores)
MEMORY_NEAR = 0.5  # a failure after the child's resident memory passed this share of its ceiling: for lack of memory
OCR_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff")
OCR_PAGE = b"ocr-page "  # what the child writes on stderr before OCR's first page and after each: "ocr-page DONE TOTAL"
_one_at_a_time = threading.Lock()


def extract(raw: bytes, name: str, memory_mb: int = MEMORY_MB, base_seconds: float = BASE_SECONDS,
            ocr_memory_mb: int = OCR_MEMORY_MB, progress=None) -> tuple[Extracted, list[str]]:
    """The text of `raw` read as the file `name` would be, and its warnings; SkippedSource when it
    cannot be read, needs more than `memory_mb` (`ocr_memory_mb` for a file OCR may read), or
    takes longer than `base_seconds` plus SECONDS_PER_MB per MB of the file, plus
    SECONDS_PER_OCR_PAGE for each page OCR has read. `progress(done, total)` is told when OCR
    starts (done 0) and after each page it reads."""
    if Path(name).suffix.lower() in OCR_SUFFIXES:
        memory_mb = max(memory_mb, ocr_memory_mb)
    seconds = base_seconds + SECONDS_PER_MB * len(raw) / 2**20
    with _one_at_a_time:
        done, pages = _run([sys.executable, "-m", "cqqa.ingest.bounded", name, str(memory_mb)], raw, seconds, progress)
    limit = seconds + SECONDS_PER_OCR_PAGE * pages
    if done is None:
        raise SkippedSource(f"{name} took longer than {limit:.0f} s to read (its pages or parts expand to far "
                            "more than its size); it was not added. Save it again (print to PDF, or "
                            "save as .docx), or split it")
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"failed": done.stderr.decode(errors="replace").strip()[-300:] or f"exit status {done.returncode}"}
    if "text" in result:
        return Extracted(result["text"], result["meta"]), result["warnings"]
    if "skipped" in result:
        raise SkippedSource(result["skipped"])
    if result.get("memory"):
        raise SkippedSource(f"{name} needs more than {memory_mb} MB of memory to read (it expands to far more than "
                            "its size: a zip bomb or a document of that scale); it was not added. Split it")
    raise SkippedSource(f"{name} could not be read ({result['failed']})")


def _run(command: list[str], raw: bytes, seconds: float, progress=None) -> tuple[subprocess.CompletedProcess | None, int]:
    """Run the child, killed once it has run `seconds` plus SECONDS_PER_OCR_PAGE for each page it
    has OCR'd: (the finished process, or None when killed; the pages OCR'd)."""
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err, pages = [], [], [0]

    def feed():
        try:
            child.stdin.write(raw)
            child.stdin.close()
        except OSError:  # the child ended early (killed, or refused the file at once)
            pass

    def drain(stream, into, count=False):
        for line in stream:
            if count and line.startswith(OCR_PAGE) and len(told := line.split()) == 3:
                pages[0] = int(told[1])
                if progress is not None:
                    progress(pages[0], int(told[2]))
            else:
                into.append(line)

    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, args=(child.stdout, out)),
               threading.Thread(target=drain, args=(child.stderr, err, True))]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    while child.poll() is None:
        if time.monotonic() - started > seconds + SECONDS_PER_OCR_PAGE * pages[0]:
            child.kill()
            child.wait()
            return None, pages[0]
        time.sleep(0.05)
    for thread in threads[1:]:
        thread.join()
    return subprocess.CompletedProcess(command, child.returncode, b"".join(out), b"".join(err)), pages[0]


def _child(name: str, memory_mb: int) -> dict:
    import hashlib

    from cqqa.ingest.formats import ocr
    from cqqa.ingest.sources import extract_once

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20,) * 2)
    ocr.on_page = lambda done, total: (sys.stderr.buffer.write(OCR_PAGE + f"{done} {total}\n".encode()),
                                       sys.stderr.flush())  # the parent's clock and its progress
    raw = sys.stdin.buffer.read()
    warnings: list[str] = []
    try:
        extracted = extract_once(raw, hashlib.sha256(raw).hexdigest(), Path(name), warnings.append)
    except MemoryError:
        return {"memory": True}
    except Exception as exc:  # noqa: BLE001 - a parser's failure on a hostile file is a refusal, told plainly
        # a C parser (libxml2) out of memory says "unknown error": the peak tells it apart
        if _peak_mb() > MEMORY_NEAR * memory_mb:
            return {"memory": True}
        if isinstance(exc, SkippedSource):
            return {"skipped": str(exc)}
        return {"failed": f"{type(exc).__name__}: {str(exc)[:200]}"}
    return {"text": extracted.text, "meta": extracted.meta, "warnings": warnings}


def _peak_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM; getrusage's ru_maxrss would
    count the server's memory from before the exec)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


if __name__ == "__main__":
    try:
        out = _child(sys.argv[1], int(sys.argv[2]))
    except MemoryError:
        out = {"memory": True}
    print(json.dumps(out, ensure_ascii=False, default=str))
