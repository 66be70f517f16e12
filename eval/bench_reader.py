"""Benchmark of the reader beside retrieval, in one process as `cqqa serve` runs them:

  1. retrieval latency idle: `Searcher.retrieve` for each bench query, median over runs;
  2. retrieval latency while the reader translates in another thread (the same queries,
     interleaved with the idle ones so that a slower stretch of the machine hits both);
  3. the reader alone: seconds to the first token and to a whole three-quote answer.

    python eval/bench_reader.py --runs 5

Prints one JSON object. Targets (issue 12): a concurrent question's retrieval <= 2x idle; first
translated token <= 4 s; a three-quote translation <= 15 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

from cqqa.answer.compose import compose_extractive
from cqqa.answer.types import quotes_of
from cqqa.evaluation.bench import QUERIES
from cqqa.answer.readers import ReaderSource
from cqqa.config import LLMSettings, ReaderSettings, Settings
from cqqa.retrieve.search import Searcher

QUESTION = "What did Zhang Xinghai say about the future car?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    searcher = Searcher(Settings.from_env())
    source = ReaderSource.open(LLMSettings(), ReaderSettings(), require=True)  # the bundled reader, as the chat starts it
    reader = source.reader(searcher.index.names)
    answer = compose_extractive(QUESTION, searcher.retrieve(QUESTION, 5))
    quotes = quotes_of(answer)
    for query in QUERIES:  # warm-up: first-use loading is not per-query work
        searcher.retrieve(query, 5)
    searcher.embedder.encode_queries(["warm"])

    def retrieval_ms(query: str) -> float:
        started = time.perf_counter()
        searcher.retrieve(query, 5)  # each call passes a new string: the query vector is computed
        return 1000 * (time.perf_counter() - started)

    firsts, wholes = [], []
    for _ in range(args.runs):
        started, first = time.perf_counter(), None
        for translations in reader.translate_all(quotes):
            if first is None and any(t.draft for t in translations):
                first = time.perf_counter() - started
        firsts.append(first)
        wholes.append(time.perf_counter() - started)

    idle, busy = [], []
    for run in range(args.runs):
        for query in QUERIES:
            idle.append(retrieval_ms(query + f" {run}"))
        writing = threading.Event()
        done = threading.Event()

        def translate() -> None:
            for translations in reader.translate_all(quotes):
                if any(t.draft for t in translations):
                    writing.set()
            done.set()

        threading.Thread(target=translate, daemon=True).start()
        writing.wait(60)
        for query in QUERIES:
            if done.is_set():
                break
            busy.append(retrieval_ms(query + f" busy {run}"))
        done.wait(120)

    print(json.dumps({
        "quotes": len(quotes),
        "first_token_s_median": round(statistics.median(firsts), 2),
        "three_quote_s_median": round(statistics.median(wholes), 2) if len(quotes) == 3 else None,
        "answer_translation_s_median": round(statistics.median(wholes), 2),
        "retrieval_ms_idle_median": round(statistics.median(idle), 1),
        "retrieval_ms_while_reader_writes_median": round(statistics.median(busy), 1) if busy else None,
        "ratio": round(statistics.median(busy) / statistics.median(idle), 2) if busy else None,
        "samples": {"idle": len(idle), "busy": len(busy), "translations": len(wholes)},
    }, indent=1))


if __name__ == "__main__":
    main()
