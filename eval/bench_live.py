"""Benchmarks of the live parts, each as real processes, medians over runs:

  noop    `cqqa index` with nothing changed: the whole process, start-up included
  serve   `cqqa serve`: process start to the port accepting a connection, to its first HTTP reply,
          and to the first answer (asked as soon as the port answers); then answer latency
  change  a corpus (default: DRCD test docs): full cold build vs rebuild after editing one file

    python eval/bench_live.py noop serve
    python eval/bench_live.py change --source ../shared/benchmarks/drcd-test/docs --runs 3

Prints one JSON object per benchmark.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cqqa.evaluation.bench import QUERIES

ROOT = Path(__file__).resolve().parents[1]
CQQA = str(Path(sys.executable).with_name("cqqa"))
QUESTIONS = ["what did Yin Qi say about AI 2.0"]


def run(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([CQQA, *args], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    return time.perf_counter() - started, proc.stdout


def noop(runs: int) -> dict:
    run("index")  # make sure it is up to date
    times = [run("index", "--json")[0] for _ in range(runs)]
    return {"bench": "noop", "runs": runs, "cqqa_index_process_s_median": round(statistics.median(times), 3)}


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as reply:
        return json.loads(reply.read())


def serve(runs: int) -> dict:
    first, latencies, listening, connecting = [], [], [], []
    for i in range(runs):
        port = _port()
        started = time.perf_counter()
        proc = subprocess.Popen([CQQA, "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while True:  # the port accepts a connection (no "connection refused")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=60).close()
                    break
                except OSError:
                    time.sleep(0.02)
            connecting.append(time.perf_counter() - started)
            while True:  # the port answers (any HTTP reply, 503 "loading" included)
                try:
                    _get(f"http://127.0.0.1:{port}/api/status")
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    time.sleep(0.05)
            listening.append(time.perf_counter() - started)
            _get(f"http://127.0.0.1:{port}/api/ask?q=" + urllib.parse.quote(QUESTIONS[0]))  # waits for the model
            first.append(time.perf_counter() - started)
            for question in QUERIES:  # each once per process: no query-cache hits
                t0 = time.perf_counter()
                _get(f"http://127.0.0.1:{port}/api/ask?q=" + urllib.parse.quote(question))
                latencies.append(time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait()
    return {"bench": "serve", "runs": runs, "connect_s_median": round(statistics.median(connecting), 2),
            "first_http_reply_s_median": round(statistics.median(listening), 2),
            "first_answer_s_median": round(statistics.median(first), 2),
            "answers": len(latencies), "answer_ms_median": round(statistics.median(latencies) * 1000, 1),
            "answer_ms_p90": round(sorted(latencies)[int(0.9 * len(latencies))] * 1000, 1)}


def change(source: Path, runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="cqqa-bench-change-") as tmp:
        src, idx = Path(tmp) / "docs", Path(tmp) / "index"
        shutil.copytree(source, src)
        full, out = run("index", "--json", "--source", str(src), "--index", str(idx))
        report = json.loads(out)
        victim = sorted(src.glob("*.txt"))[len(list(src.glob("*.txt"))) // 2]
        times, embedded = [], []
        for i in range(runs):
            text = victim.read_text(encoding="utf-8")
            victim.write_text(text.replace("。", f"。（第{i}次修订）", 1), encoding="utf-8")  # one paragraph edited
            seconds, out = run("index", "--json", "--source", str(src), "--index", str(idx))
            times.append(seconds)
            embedded.append(json.loads(out)["embedded_chunks"])
    one = statistics.median(times)
    return {"bench": "change", "corpus": str(source), "docs": report["docs"], "chunks": report["chunks"],
            "full_build_s": round(full, 1), "one_doc_rebuild_s_median": round(one, 2),
            "embedded_chunks_per_edit": embedded, "ratio_one_doc_vs_full": round(one / full, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benches", nargs="+", choices=["noop", "serve", "change"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", default=str(ROOT.parent / "shared/benchmarks/drcd-test/docs"))
    args = parser.parse_args()
    for bench in args.benches:
        result = noop(args.runs) if bench == "noop" else serve(min(args.runs, 3)) if bench == "serve" \
            else change(Path(args.source), args.runs)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
