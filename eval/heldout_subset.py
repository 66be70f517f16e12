"""A held-out subset of a public benchmark: its first N articles (sorted by file name) and
their questions, to check a change tuned on the project's own set on questions it never saw.

    python eval/heldout_subset.py ../shared/benchmarks/cmrc2018-dev /tmp/cmrc100 --articles 100
    cqqa eval --set /tmp/cmrc100/eval.jsonl --source /tmp/cmrc100/docs --index /tmp/cmrc100/index --answers

CMRC 2018 dev: 100 articles, 355 questions; DRCD test: 100 articles, 1,283 questions.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", type=Path, help="a benchmark folder with docs/ and eval.jsonl")
    parser.add_argument("out", type=Path, help="folder to write docs/ and eval.jsonl into (must not exist)")
    parser.add_argument("--articles", type=int, default=100, help="how many articles (default 100)")
    args = parser.parse_args(argv)
    docs, questions = args.benchmark / "docs", args.benchmark / "eval.jsonl"
    if not docs.is_dir() or not questions.is_file():
        parser.error(f"{args.benchmark} needs docs/ and eval.jsonl (see ../shared/benchmarks/README.md)")
    if args.out.exists():
        parser.error(f"{args.out} exists; choose a new folder")
    chosen = sorted(docs.glob("*.txt"))[:args.articles]
    (args.out / "docs").mkdir(parents=True)
    for path in chosen:
        shutil.copy2(path, args.out / "docs" / path.name)
    stems, kept = {path.stem for path in chosen}, 0
    with open(args.out / "eval.jsonl", "w", encoding="utf-8") as out:
        for line in questions.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line).get("doc") in stems:
                out.write(line + "\n")
                kept += 1
    print(f"{len(chosen)} articles, {kept} questions -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
