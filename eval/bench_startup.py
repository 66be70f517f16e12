"""`cqqa serve` start-up: process start to the first HTTP reply on `/` (any status: the
"starting" page counts) and to the first answer, for this tree and, alternating run by run, for
another checkout (the previous commit, say), so that the ratio holds on a busy machine:

    git worktree add /tmp/before HEAD~1
    python eval/bench_startup.py --runs 3 --before /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench_live import _port  # eval/, beside this script

HERE = str(Path(__file__).resolve().parents[1] / "src")
QUESTION = "%E9%87%8D%E5%BA%86%E6%96%B0%E8%83%BD%E6%BA%90%E6%B1%BD%E8%BD%A6"  # 重庆新能源汽车


def once(src: str) -> tuple[float, float]:
    port = _port()
    env = dict(os.environ, PYTHONPATH=src, CQQA_READER="0")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from cqqa.cli import main; sys.exit(main())",
                             "serve", "--port", str(port), "--no-reader"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).close()
                break
            except urllib.error.HTTPError:  # 503 "starting" is a reply
                break
            except OSError:
                time.sleep(0.02)
        first_reply = time.perf_counter() - started
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ask?q={QUESTION}", timeout=300).read()
        return first_reply, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="another checkout's src/ folder to compare with")
    args = parser.parse_args()
    trees = {"this tree": HERE} | ({"before": args.before} if args.before else {})
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for run in range(args.runs):
        for name, src in trees.items():
            results[name].append(once(src))
            print(f"run {run + 1} {name}: first reply {results[name][-1][0]:.2f} s, "
                  f"first answer {results[name][-1][1]:.2f} s", flush=True)
    for name, rows in results.items():
        print(f"{name}: first HTTP reply median {statistics.median(r[0] for r in rows):.2f} s, "
              f"first answer median {statistics.median(r[1] for r in rows):.2f} s ({len(rows)} runs)")


if __name__ == "__main__":
    main()
