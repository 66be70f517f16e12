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

With `--stores local milvus` the same corpus is built into each store in one run (Milvus Lite,
embedded, in a file under the folder) and each is searched in its own fresh process: build time
(the same cleaning and chunking; the difference is the store's writing), search p50/p90, peak
RSS (the Milvus process holds no vectors; Milvus Lite runs inside it, so its memory counts too)
and disk.

    python eval/bench_serve_scale.py --copies 20 --queries 60
    python eval/bench_serve_scale.py --copies 20 --queries 60 --stores local milvus
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


def settings_for(index: Path, store: str) -> Settings:
    """The index folder (local), or the Milvus server CQQA_MILVUS_URI names (milvus; main starts one)."""
    return dataclasses.replace(Settings.from_env(), index_dir=index, source_dir=index.parent / "docs", store=store)


def start_milvus(data: Path):
    """`milvus-lite server` as its own process, so that the cqqa process's memory is cqqa's alone."""
    import os
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).with_name("milvus-lite")), "server", "--host", "127.0.0.1",
                               "--port", str(port), "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.environ["CQQA_MILVUS_URI"] = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("milvus-lite server did not start")


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def build(folder: Path, copies: int, store: str) -> Path:
    from cqqa.index.build import build_index

    source = folder / "docs"
    if not source.exists() or len(list(source.glob("*.txt"))) == 0:
        source.mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            for bench in ("cmrc2018-dev", "drcd-test"):
                for path in sorted((BENCHMARKS / bench / "docs").glob("*.txt")):
                    shutil.copyfile(path, source / f"c{copy:02d}-{bench}-{path.name}")
    index = folder / f"index-{store}"
    shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    report = build_index(settings_for(index, store), embedder_factory=RandomVectors, progress=True, force=True)
    seconds = time.perf_counter() - started
    print(json.dumps({"store": store, "copies": copies, "documents": len(list(source.glob("*.txt"))),
                      "chunks": report.chunks, "build_seconds_without_the_model": round(seconds, 1)}), flush=True)
    return index


def search(index: Path, queries: int, store: str) -> dict:
    """In this (fresh) process: load as serve does, then time Searcher.search per question."""
    from cqqa.retrieve.search import Searcher

    questions = [json.loads(line)["question"]
                 for line in (BENCHMARKS / "drcd-test" / "eval.jsonl").read_text().splitlines()[:queries + 5]]
    started = time.perf_counter()
    searcher = Searcher(settings_for(index, store))
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
            "embedder": searcher.embedder.identity.dtype, "store": store,
            "vector_search": type(getattr(searcher.index.vector_index, "_faiss", searcher.index.vector_index)).__name__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/cqqa-scale"))
    parser.add_argument("--index", type=Path, help="search this already built index (skips the build)")
    parser.add_argument("--stores", nargs="+", choices=("local", "milvus"), default=["local"],
                        help="build and search the corpus in each of these stores (default: local)")
    parser.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.search_only:
        print(json.dumps(search(args.index, args.queries, args.stores[0])))
        return
    for store in args.stores:
        data = args.folder / "milvus-data"
        if store == "milvus":
            shutil.rmtree(data, ignore_errors=True)
            server = start_milvus(data)
        index = args.index or build(args.folder, args.copies, store)
        size = sum(p.stat().st_size for p in (data if store == "milvus" else index).rglob("*") if p.is_file())
        print(json.dumps({"store": store, "index_on_disk_mb": round(size / 2**20)}), flush=True)
        subprocess.run([sys.executable, __file__, "--search-only", "--index", str(index), "--stores", store,
                        "--queries", str(args.queries)], check=True)
        if store == "milvus":
            print(json.dumps({"milvus_server_peak_rss_mb": peak_rss_mb(server.pid)}), flush=True)
            server.terminate()


if __name__ == "__main__":
    main()
