"""Benchmark of the reader beside retrieval, in one process as `cqqa serve` runs them:

  1. retrieval latency idle: `Searcher.retrieve` for each bench query, median over runs;
  2. retrieval latency while the reader translates in another thread (the same queries,
     interleaved with the idle ones so that a slower stretch of the machine hits both);
  3. the reader alone: seconds to the first token and to a whole three-quote answer.

    python eval/bench_reader.py --runs 5

Prints one JSON object. Targets (issue 12): a concurrent question's retrieval <= 2x idle; first
translated token <= 4 s; a three-quote translation <= 15 s.

The reader's translation cache is off here (CQQA_TRANSLATION_CACHE=0 whatever the environment
says): with it, every run after the first was answered from the cache in 0.0 s, the medians hid
the model, and the reader finished before any retrieval could be timed beside it (issue 37).
Every run's figures are printed too, the first (cold) one included, with the reader's decode speed
(tokens per second after each quote's first token, median) and this process's resident memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import threading
import time

import httpx

from bench_load import rss_mb  # eval/, beside this script
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
    no_cache = dataclasses.replace(ReaderSettings.from_env(), cache_entries=0)  # measure the model, not the cache
    source = ReaderSource.open(LLMSettings(), no_cache, require=True)  # the bundled reader, as the chat starts it
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

    firsts, wholes, speeds = [], [], []
    for _ in range(args.runs):
        started, first = time.perf_counter(), None
        for translations in reader.translate_all(quotes):
            if first is None and any(t.draft for t in translations):
                first = time.perf_counter() - started
        firsts.append(first)
        wholes.append(time.perf_counter() - started)
        speeds += [decode_speed(source, t) for t in translations]

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
        "runs": {"first_token_s": [round(f, 2) if f is not None else None for f in firsts],
                 "answer_translation_s": [round(w, 2) for w in wholes]},
        "translation_cache": "off",
        "decode_tokens_per_s_median": round(statistics.median(speeds), 1),
        "rss_mb": round(rss_mb(os.getpid())),  # the embedder, the index and the reader, as `cqqa serve` holds them
    }, indent=1))


def decode_speed(source: ReaderSource, translation) -> float:
    """A translation's tokens (the reader's own tokenizer, its server's /tokenize) per second
    after its first token."""
    base = source.client.settings.base_url.removesuffix("/v1")
    tokens = httpx.post(f"{base}/tokenize", json={"content": translation.draft}, timeout=30).json()["tokens"]
    return (len(tokens) - 1) / max(translation.seconds - translation.first_token_seconds, 1e-6)


if __name__ == "__main__":
    main()
