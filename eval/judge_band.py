"""Measure the reader as a judge of "does this passage answer the question?" on the English
questions whose best sentence scores in the uncertain band around the refusal threshold, where
similarity alone decides by noise (README, *Evaluation*: English unanswerable and answerable
questions overlap between 0.36 and 0.39). A measurement for a possible product change, not part
of the product: it prints each question's score, the truth, the judge's reply and its seconds.

    python eval/judge_band.py [--set eval/cqqa-eval.jsonl] [--low 0.34] [--high 0.42]

Needs the bundled reader (`cqqa models fetch`); runs in the configured dtype (CQQA_DTYPE,
CQQA_BACKEND). 2026-11-25, bf16: 9 of 12 right, 1.9-3.0 s each. Later that day on the 191
questions: 11 of 14 right (wrong: s074, u006, u010), while the 0.375 threshold alone decides 12
of the same 14 right and the two it gets wrong (s133, s139) are who-is questions the subject
lookup now answers: in bf16 the judge would not help; in int8 the band's scores move by about
0.012, which is where it might.

Since 2026-12-04 the judge is part of the product (retrieve/judge.py: its prompt, the passage it
is shown and P(yes) from the first token's log-probabilities); this script asks it exactly so and
prints P(yes) against the default decision's judge_min.
"""

from __future__ import annotations

import argparse
import time

from cqqa.answer.readers import ReaderSource
from cqqa.evaluation.evalset import load_eval_set
from cqqa.config import LLMSettings, ReaderSettings
from cqqa.retrieve.decision import Decision
from cqqa.retrieve.judge import Judge, judged_passage
from cqqa.retrieve.search import Searcher

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="eval/cqqa-eval.jsonl")
    parser.add_argument("--low", type=float, default=0.34)
    parser.add_argument("--high", type=float, default=0.42)
    args = parser.parse_args()
    searcher = Searcher()
    source = ReaderSource.open(LLMSettings(), ReaderSettings(), require=True)  # the bundled reader, as the chat starts it
    judge, minimum = Judge(source.client), Decision.default().thresholds["en"].judge_min
    right = total = 0
    print("score  truth         judge  seconds  id    question")
    for item in load_eval_set(args.set):
        if item.lang != "en":
            continue
        retrieval = searcher.retrieve(item.question, 5, item.history)
        score = retrieval.hits[0].best_sentence_score if retrieval.hits else None
        if score is None or not args.low <= score <= args.high:
            continue
        started = time.perf_counter()
        yes = judge.yes(item.question, judged_passage(retrieval.sentence_scores(retrieval.hits[0])))
        says_yes = yes is not None and yes >= minimum
        total += 1
        right += says_yes == item.answerable
        truth = "answerable" if item.answerable else "unanswerable"
        print(f"{score:.3f}  {truth:12}  {'yes' if says_yes else 'no':5}  {time.perf_counter() - started:7.1f}"
              f"  {item.id:5} {item.question}")
    print(f"judge right on {right} of {total} questions scoring {args.low}-{args.high}")


if __name__ == "__main__":
    main()
