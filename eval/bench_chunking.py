"""Chunking time per MB, from 1 to 16 MB: it must stay flat (linear chunking).

    python eval/bench_chunking.py [--sizes 1 2 4 8 16] [--runs 3]

Each size is real article text: the files of docs_src/ repeated (with a running paragraph
number, so no two paragraphs are equal) until the size is reached, in one document with no
sidecar (its title is its first line, the case that used to be quadratic). Times the whole of
`chunk_document` (cleaning, sections, splitting, token counting). Medians over runs.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cqqa.ingest.chunking import chunk_document  # noqa: E402
from cqqa.config import ChunkSettings  # noqa: E402
from cqqa.ingest.sources import Document  # noqa: E402


def corpus_text(megabytes: float) -> str:
    paragraphs = [p.strip() for f in sorted((ROOT / "docs_src").glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n") if p.strip()]
    target, parts, size, n = int(megabytes * 2**20), [], 0, 0
    while size < target:
        text = f"第{n}段　{paragraphs[n % len(paragraphs)]}\n\n"
        parts.append(text)
        size += len(text.encode("utf-8"))
        n += 1
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8, 16], help="MB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = ChunkSettings()
    chunk_document(Document("warm", Path("warm.txt"), corpus_text(0.05), "0", {}), settings)  # jieba, tiktoken
    print(f"{'MB':>5} {'chunks':>8} {'median s':>9} {'s per MB':>9}")
    for mb in args.sizes:
        text = corpus_text(mb)
        doc = Document("big", Path("big.txt"), text, hashlib.sha256(text.encode()).hexdigest(), {})
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            chunks = chunk_document(doc, settings)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"{mb:5g} {len(chunks):8d} {median:9.2f} {median / mb:9.2f}", flush=True)


if __name__ == "__main__":
    main()
