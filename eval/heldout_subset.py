"""A held-out subset of a public benchmark: its first N articles (sorted by file name) and
their questions, to check a change tuned on the project's own set on questions it never saw.
With --hold-out M, M of those articles are left out of docs/ and their questions kept as
unanswerable ones (evaluation/holdout.py): the refusal test on a corpus nobody tuned on.

    python eval/heldout_subset.py ../shared/benchmarks/cmrc2018-dev /tmp/cmrc100 --articles 100
    cqqa eval --set /tmp/cmrc100/eval.jsonl --source /tmp/cmrc100/docs --index /tmp/cmrc100/index --answers
    python eval/heldout_subset.py ../shared/benchmarks/xquad-dev /tmp/xq4 --questions eval-en.jsonl --hold-out 4
    python eval/heldout_subset.py ../shared/benchmarks/drcd-test /tmp/drcd-nm --articles 100 --near-misses

With --near-misses, one paragraph is removed from each article instead (evaluation/holdout.py):
its questions become unanswerable where their answer is written nowhere else in the article.
On xquad-dev it reproduces ../shared/benchmarks/xquad-dev-near-misses exactly.

CMRC 2018 dev: 100 articles, 355 questions; DRCD test: 100 articles, 1,283 questions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from cqqa.evaluation.evalset import load_eval_set, write_eval_set
from cqqa.evaluation.holdout import hold_out, near_misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", type=Path, help="a benchmark folder with docs/ and eval.jsonl")
    parser.add_argument("out", type=Path, help="folder to write docs/ and eval.jsonl into (must not exist)")
    parser.add_argument("--articles", type=int, default=0, help="how many articles (default: all)")
    parser.add_argument("--questions", default="eval.jsonl", help="the question file in the benchmark folder")
    parser.add_argument("--hold-out", type=int, default=0, metavar="M",
                        help="leave M articles out of docs/; their questions become unanswerable")
    parser.add_argument("--near-misses", action="store_true",
                        help="remove one paragraph from each article; its questions whose answer is gone become "
                             "unanswerable, those whose answer is still written elsewhere are dropped")
    args = parser.parse_args(argv)
    if args.near_misses and args.hold_out:
        parser.error("choose --hold-out or --near-misses, not both")
    docs, questions = args.benchmark / "docs", args.benchmark / args.questions
    if not docs.is_dir() or not questions.is_file():
        parser.error(f"{args.benchmark} needs docs/ and {args.questions} (see ../shared/benchmarks/README.md)")
    if args.out.exists():
        parser.error(f"{args.out} exists; choose a new folder")
    chosen = sorted(docs.glob("*.txt"))[:args.articles or None]
    stems = {path.stem for path in chosen}
    items = [item for item in load_eval_set(questions) if item.doc in stems]
    removed: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        subset = Path(scratch) / "docs"
        subset.mkdir()
        for path in chosen:
            shutil.copy2(path, subset / path.name)
        if args.hold_out:
            items, removed = hold_out(items, subset, args.out / "docs", args.hold_out)
        elif args.near_misses:
            items, _ = near_misses(items, subset, args.out / "docs")
        else:
            shutil.copytree(subset, args.out / "docs")
    write_eval_set(items, args.out / "eval.jsonl")
    unanswerable = sum(not item.answerable for item in items)
    print(f"{len(chosen) - len(removed)} articles, {len(items)} questions ({unanswerable} unanswerable; "
          f"held out: {', '.join(removed) or 'none'}) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
