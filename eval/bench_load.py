"""Several people asking at once: `cqqa serve` (with its reader) on a loopback port, N concurrent
askers over `/api/ask?stream=true` (the answer at once, then a line as each quote's translation is
checked), bounded: each asker asks `--rounds` questions one after another. Reports, per reader
order, mix and level: the time to the first checked translation (English answers with quotes)
p50 / p95 and that p95 over one asker's p50 ("/ 1": the target is at most 3 with 4 askers), the
whole answer p50 / p95, answers per minute, errors and the server's resident memory.

    python eval/bench_load.py --levels 1 2 4 8 --rounds 2 --mix en mixed --orders fair arrival [--cache 0]

`--orders`: one fresh server per order (CQQA_READER_ORDER): `fair` (the product: everyone's first
quote before anyone's second, answer/turns.py) and `arrival` (first come, first served: the
baseline), asked the same questions. English questions are the evaluation set's single English
ones, in order, dealt round-robin to the askers (asker i gets questions i, i+N, ...), none asked
twice on one server (a repeat would be answered from the translation cache); "mixed" alternates
them with its Chinese ones. `--cache 0` runs the server without the translation cache
(CQQA_TRANSLATION_CACHE). Loopback only; nothing is sent anywhere else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench_live import _port  # eval/, beside this script

ROOT = Path(__file__).resolve().parents[1]


def questions(mix: str, asked: set[str]) -> list[str]:
    """The questions not asked yet: English ones, or English and Chinese alternating."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "cqqa-eval.jsonl").read_text(encoding="utf-8").splitlines()]
    single = [r for r in rows if r["kind"] == "single"]
    english = [r["question"] for r in single if r.get("lang") == "en" and r["question"] not in asked]
    if mix == "en":
        return english
    chinese = [r["question"] for r in single if r.get("lang", "").startswith("zh") and r["question"] not in asked]
    return [q for pair in zip(english, chinese) for q in pair]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ask_streamed(base: str, question: str) -> tuple[float | None, float]:
    """(seconds to the first checked translation or None if none came, seconds to the whole answer)."""
    started, first = time.perf_counter(), None
    url = f"{base}/api/ask?stream=true&q={urllib.parse.quote(question)}"
    with urllib.request.urlopen(url, timeout=900) as reply:
        for line in reply:
            answer = json.loads(line)
            if first is None and any(t["status"] == "checked" for t in answer["translations"]):
                first = time.perf_counter() - started
    if "answer_id" not in answer:
        raise RuntimeError("the stream ended before the final answer")
    return first, time.perf_counter() - started


def level(base: str, askers: int, rounds: int, pool: list[str]) -> dict:
    """One level: `askers` threads, each asking `rounds` questions of `pool` (consumed in order)."""
    times, firsts, errors, lock = [], [], [], threading.Lock()

    def ask(i: int) -> None:
        for r in range(rounds):
            question = pool[i + r * askers]
            try:
                first, whole = ask_streamed(base, question)
                with lock:
                    times.append(whole)
                    if first is not None:
                        firsts.append(first)
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                with lock:
                    errors.append(f"{question[:40]}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(askers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"askers": askers, "answers": len(times), "errors": errors, "first": percentiles(firsts),
            "whole": percentiles(times), "per_minute": round(60 * len(times) / wall, 1)}


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """(p50, p95), rounded to 0.1 s; (None, None) for no values."""
    if not values:
        return None, None
    values = sorted(values)
    return round(statistics.median(values), 1), round(values[min(len(values) - 1, int(0.95 * len(values)))], 1)


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "cqqa.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status", timeout=5) as reply:
                if json.loads(reply.read()).get("ready"):
                    return proc, base
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            sys.exit("the server did not become ready")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=2, help="questions each asker asks, one after another")
    parser.add_argument("--mix", nargs="+", default=["en"], choices=["en", "mixed"])
    parser.add_argument("--orders", nargs="+", default=["fair"], choices=["fair", "arrival"],
                        help="CQQA_READER_ORDER of each server run (default: fair, the product)")
    parser.add_argument("--cache", help="CQQA_TRANSLATION_CACHE for the server (default: the product's)")
    args = parser.parse_args()
    print(f"{'order':8} {'mix':6} {'askers':>6} {'answers':>7} {'first p50':>9} {'p95':>6} {'/ 1':>5} "
          f"{'whole p50':>9} {'p95':>6} {'per min':>8} {'RSS MB':>7} errors", flush=True)
    for order in args.orders:
        env = dict(os.environ, CQQA_READER="auto", CQQA_LLM_BASE_URL="", CQQA_READER_ORDER=order,
                   CQQA_CONVERSATIONS_FILE=str(Path(tempfile.mkdtemp(prefix="cqqa-load-")) / "c.sqlite3"))
        if args.cache is not None:
            env["CQQA_TRANSLATION_CACHE"] = args.cache
        proc, base = start_server(env)
        try:
            asked: set[str] = set()  # no question twice on one server: a repeat is answered from the cache
            for mix in args.mix:
                alone = None
                for askers in args.levels:
                    pool = questions(mix, asked)[:askers * args.rounds]
                    if len(pool) < askers * args.rounds:
                        sys.exit(f"the evaluation set has too few new {mix} questions for {askers} askers")
                    asked.update(pool)
                    row = level(base, askers, args.rounds, pool)
                    alone = alone or row["first"][0]
                    ratio = f"{row['first'][1] / alone:.1f}" if alone and row["first"][1] else "-"
                    print(f"{order:8} {mix:6} {askers:>6} {row['answers']:>7} {row['first'][0]!s:>9} "
                          f"{row['first'][1]!s:>6} {ratio:>5} {row['whole'][0]!s:>9} {row['whole'][1]!s:>6} "
                          f"{row['per_minute']:>8} {rss_mb(proc.pid):>7.0f} {len(row['errors'])}"
                          + "".join(f"\n    {e}" for e in row["errors"][:3]), flush=True)
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
