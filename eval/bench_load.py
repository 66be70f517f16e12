"""Several people asking at once: `cqqa serve` (with its reader) on a loopback port, N concurrent
askers over `/api/ask` (the whole answer, translations included), bounded: each asker asks
`--rounds` questions one after another. Reports, per level and mix, the whole-answer time p50 /
p95, answers per minute, errors and the server's resident memory after the level.

    python eval/bench_load.py --levels 1 2 4 --rounds 2 [--mix en mixed] [--cache 0]

English questions are the evaluation set's single English ones, in order, dealt round-robin to
the askers (asker i gets questions i, i+N, …), none asked twice in a run (a repeat would be
answered from the translation cache); "mixed" alternates them with its Chinese ones. `--cache 0` runs the server without the
translation cache (CQQA_TRANSLATION_CACHE). Loopback only; nothing is sent anywhere else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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


def level(base: str, askers: int, rounds: int, pool: list[str]) -> dict:
    """One level: `askers` threads, each asking `rounds` questions of `pool` (consumed in order)."""
    times, errors, lock = [], [], threading.Lock()

    def ask(i: int) -> None:
        for r in range(rounds):
            question = pool[i + r * askers]
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{base}/api/ask?q={urllib.parse.quote(question)}", timeout=600) as reply:
                    json.loads(reply.read())
                with lock:
                    times.append(time.perf_counter() - started)
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
    times.sort()
    return {"askers": askers, "answers": len(times), "errors": errors,
            "p50_s": round(statistics.median(times), 1) if times else None,
            "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1) if times else None,
            "per_minute": round(60 * len(times) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2, help="questions each asker asks, one after another")
    parser.add_argument("--mix", nargs="+", default=["en"], choices=["en", "mixed"])
    parser.add_argument("--cache", help="CQQA_TRANSLATION_CACHE for the server (default: the product's)")
    args = parser.parse_args()
    port = _port()
    env = dict(os.environ, CQQA_READER="auto", CQQA_LLM_BASE_URL="")
    if args.cache is not None:
        env["CQQA_TRANSLATION_CACHE"] = args.cache
    proc = subprocess.Popen([sys.executable, "-m", "cqqa.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status", timeout=5) as reply:
                    if json.loads(reply.read()).get("ready"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit("the server did not become ready")
            time.sleep(0.5)
        print(f"{'mix':6} {'askers':>6} {'answers':>7} {'p50 s':>6} {'p95 s':>6} {'per min':>8} {'RSS MB':>7} errors")
        asked: set[str] = set()  # no question twice in a run: a repeated one is answered from the cache
        for mix in args.mix:
            for askers in args.levels:
                pool = questions(mix, asked)[:askers * args.rounds]
                if len(pool) < askers * args.rounds:
                    sys.exit(f"the evaluation set has too few new {mix} questions for {askers} askers")
                asked.update(pool)
                row = level(base, askers, args.rounds, pool)
                print(f"{mix:6} {askers:>6} {row['answers']:>7} {row['p50_s']!s:>6} {row['p95_s']!s:>6} "
                      f"{row['per_minute']:>8} {rss_mb(proc.pid):>7.0f} {len(row['errors'])}"
                      + "".join(f"\n    {e}" for e in row["errors"][:3]), flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
