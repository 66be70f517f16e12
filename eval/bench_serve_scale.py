"""Serving at 100,000 chunks: end-to-end search latency, peak memory and index size on disk.

Real text, synthetic vectors: the two public benchmarks' articles (CMRC 2018 dev + DRCD test,
5.5 MB, about 5,400 chunks) are copied `--copies` times into one corpus (20 copies: about 108,000
chunks) and built by the product's own `build_index` (cleaning, chunking, sentences, BM25, FAISS,
manifest, all real), except that the vectors come from a stand-in that writes random unit
vectors under the real model's identity: embedding 540,000 texts with the model would take hours
here, and latency and memory do not depend on what the vectors say. The index is then searched
in a fresh process, as `cqqa serve` does, with the real model embedding each query (the backend
`auto` picks, or `CQQA_BACKEND`): p50/p90 of `Searcher.search` over DRCD questions, and the peak
RSS of that process.

    python eval/bench_serve_scale.py --copies 20 --queries 60
    python eval/bench_serve_scale.py --index /tmp/cqqa-scale/index --queries 60   # search only, again
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cqqa.config import DEFAULT_MODEL, Settings
from cqqa.models.embedding import ModelIdentity
from cqqa.models.files import bundled_model_path, weights_sha256

BENCHMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


class RandomVectors:
    """Random unit vectors under the real model's identity (no model loaded): for sizing only."""

    def __init__(self):
        self.identity = ModelIdentity(name=DEFAULT_MODEL, weights_sha256=weights_sha256(str(bundled_model_path())),
                                      dim=768, dtype="float32")
        self.rng = np.random.default_rng(0)

    def encode_documents(self, texts, batch_size=32, progress=False):
        vectors = self.rng.standard_normal((len(texts), self.identity.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    encode_queries = encode_documents


def build(folder: Path, copies: int) -> Path:
    from cqqa.index.build import build_index

    source = folder / "docs"
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    for copy in range(copies):
        for bench in ("cmrc2018-dev", "drcd-test"):
            for path in sorted((BENCHMARKS / bench / "docs").glob("*.txt")):
                shutil.copyfile(path, source / f"c{copy:02d}-{bench}-{path.name}")
    settings = dataclasses.replace(Settings.from_env(), source_dir=source, index_dir=folder / "index")
    started = time.perf_counter()
    report = build_index(settings, embedder_factory=RandomVectors, progress=True, force=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"copies": copies, "documents": len(list(source.glob("*.txt"))),
                      "chunks": report.chunks, "build_seconds_without_the_model": round(seconds, 1)}), flush=True)
    return folder / "index"


def search(index: Path, queries: int) -> dict:
    """In this (fresh) process: load as serve does, then time Searcher.search per question."""
    from cqqa.retrieve.search import Searcher

    questions = [json.loads(line)["question"]
                 for line in (BENCHMARKS / "drcd-test" / "eval.jsonl").read_text().splitlines()[:queries + 5]]
    started = time.perf_counter()
    searcher = Searcher(dataclasses.replace(Settings.from_env(), index_dir=index, source_dir=index.parent / "docs"))
    searcher.search(questions[0])  # loads the model and the index
    load = time.perf_counter() - started
    times = []
    for question in questions[5:]:
        t = time.perf_counter()
        searcher.search(question, k=10)
        times.append(time.perf_counter() - t)
    times.sort()
    return {"load_seconds": round(load, 1), "queries": len(times),
            "search_p50_ms": round(1000 * statistics.median(times), 1),
            "search_p90_ms": round(1000 * times[int(0.9 * (len(times) - 1))], 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "embedder": searcher.embedder.identity.dtype, "faiss": type(searcher.index.vector_index._faiss).__name__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/cqqa-scale"))
    parser.add_argument("--index", type=Path, help="search this already built index (skips the build)")
    parser.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.search_only:
        print(json.dumps(search(args.index, args.queries)))
        return
    index = args.index or build(args.folder, args.copies)
    size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    print(json.dumps({"index_on_disk_mb": round(size / 2**20)}), flush=True)
    subprocess.run([sys.executable, __file__, "--search-only", "--index", str(index),
                    "--queries", str(args.queries)], check=True)


if __name__ == "__main__":
    main()
