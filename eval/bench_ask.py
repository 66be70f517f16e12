"""`cqqa ask --json` wall time, the whole process (start-up, model load, staleness check, answer),
for this tree and, alternating run by run, for another checkout:

    git worktree add /tmp/before HEAD~5
    python eval/bench_ask.py --runs 5 --before /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = str(Path(__file__).resolve().parents[1] / "src")
QUESTION = "长安汽车前三季度累计销量是多少？"


def once(src: str) -> float:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", "import sys; from cqqa.cli import main; sys.exit(main())",
                          "ask", QUESTION, "--json", "--no-reader"],
                         env=dict(os.environ, PYTHONPATH=src, CQQA_READER="0"), capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"cqqa ask failed ({src}): {run.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", help="another checkout's src/ folder to compare with")
    args = parser.parse_args()
    trees = {"before": args.before} if args.before else {}
    trees["this tree"] = HERE
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, src in trees.items():
            seconds[name].append(once(src))
    for name, values in seconds.items():
        print(f"{name}: median {statistics.median(values):.2f} s over {len(values)} runs "
              f"({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
