"""Where an index build's time goes: embedding chunks vs embedding their sentences.

Takes the first N chunks of a corpus (default: CMRC 2018 dev) and times the two
embedding passes a build runs, `--runs` times each, reporting medians and what
they project for a 2,000-chunk corpus:

    python eval/bench_embedding.py --source ../shared/benchmarks/cmrc2018-dev/docs --chunks 150 --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from cqqa.ingest.chunking import chunk_document
from cqqa.config import Settings
from cqqa.models.factory import load_embedder
from cqqa.index.build import embed_input
from cqqa.index.sentence_units import sentence_units
from cqqa.ingest.sources import load_documents


def first_chunks(source: Path, count: int, settings: Settings) -> list:
    """The first `count` chunks of the corpus in `source`, chunked as a build chunks them."""
    chunks = []
    for doc in load_documents(source):
        chunks.extend(chunk_document(doc, settings.chunks))
        if len(chunks) >= count:
            break
    return chunks[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="../shared/benchmarks/cmrc2018-dev/docs")
    parser.add_argument("--chunks", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    chunks = first_chunks(Path(args.source), args.chunks, settings)
    chunk_texts = [embed_input(c) for c in chunks]
    sentence_texts, _ = sentence_units(chunks)
    embedder = load_embedder(settings)
    tokenizer = embedder.model.tokenizer
    embedder.encode_documents(chunk_texts[:8])  # warm-up
    timings = {"chunks": [], "sentences": []}
    for _ in range(args.runs):
        for name, texts in (("chunks", chunk_texts), ("sentences", sentence_texts)):
            started = time.perf_counter()
            embedder.encode_documents(texts)
            timings[name].append(time.perf_counter() - started)
    per_chunk = {name: statistics.median(values) / len(chunks) for name, values in timings.items()}
    for name, texts in (("chunks", chunk_texts), ("sentences", sentence_texts)):
        tokens = sum(len(tokenizer(t)["input_ids"]) for t in texts)
        print(f"{name:>9}: {len(texts)} texts, {tokens} model tokens (prompt aside), median {statistics.median(timings[name]):.1f} s "
              f"over {args.runs} runs = {1000 * statistics.median(timings[name]) / len(texts):.1f} ms per text")
    total = sum(per_chunk.values())
    print(f"per chunk: {1000 * per_chunk['chunks']:.0f} ms for the chunk + {1000 * per_chunk['sentences']:.0f} ms for "
          f"its {len(sentence_texts) / len(chunks):.2f} sentences (ratio sentences/chunks "
          f"{per_chunk['sentences'] / per_chunk['chunks']:.2f})")
    print(f"projected for 2,000 chunks: {2000 * total / 60:.1f} min embedding "
          f"({2000 * per_chunk['chunks'] / 60:.1f} min of it for the chunks alone)")


if __name__ == "__main__":
    main()
