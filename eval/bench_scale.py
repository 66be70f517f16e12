"""Storage and search at scale, on synthetic vectors (random unit vectors stand in for the model's):
how the dense and sentence stages of a query grow with the corpus, and what memory they hold.

    python eval/bench_scale.py [--chunks 1000 10000 100000] [--queries 50]

Per corpus size (4 sentences per chunk, 768 dimensions, float32, as the real index stores them):
FAISS flat search for the 100 dense candidates; the sentence stage scoring every sentence of the
corpus (how search.py worked until 2026-11-24) against scoring only the candidates' sentences
(SentenceUnits.best now), with 100 + 400 candidates (400 standing in for lexical matches);
p50/p90 over the queries, the ratio of the two in the same run, and the process's peak RSS with
the sentence vectors loaded into memory or memory-mapped.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cqqa.index.sentence_units import SentenceUnits  # noqa: E402
from cqqa.index.vector_index import VectorIndex  # noqa: E402

DIM, PER_CHUNK, DENSE, LEXICAL = 768, 4, 100, 400


def unit(rows: int, rng) -> np.ndarray:
    out = np.empty((rows, DIM), dtype=np.float32)
    for at in range(0, rows, 50_000):  # in blocks: no float64 copy of the whole matrix
        block = rng.standard_normal((min(50_000, rows - at), DIM)).astype(np.float32)
        out[at:at + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def all_sentences(units: SentenceUnits, query: np.ndarray, n_chunks: int):
    """The previous sentence stage: every sentence of the corpus scored, then the best per chunk."""
    owned = (units.vectors @ query)[units.owner[:, 1]]
    best = np.full(n_chunks, -1.0, dtype=np.float32)
    np.maximum.at(best, units.owner[:, 0], owned)
    return best


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return 1000 * statistics.median(times), 1000 * times[int(0.9 * (len(times) - 1))]


def bench(n_chunks: int, queries: int, folder: Path) -> dict:
    rng = np.random.default_rng(n_chunks)
    vectors = unit(n_chunks, rng)
    sentence_vectors = unit(n_chunks * PER_CHUNK, rng)
    owner = np.stack([np.repeat(np.arange(n_chunks), PER_CHUNK), np.arange(n_chunks * PER_CHUNK)], 1).astype(np.int32)
    np.save(folder / "s.npy", sentence_vectors)
    index = VectorIndex.build(vectors, "flat", DIM)
    qs = unit(queries, rng)
    out = {"chunks": n_chunks, "sentences": n_chunks * PER_CHUNK,
           "memory_mb": {"chunk_vectors": round(vectors.nbytes / 2**20), "sentence_vectors":
                         round(sentence_vectors.nbytes / 2**20), "faiss_flat": round(vectors.nbytes / 2**20)}}
    for label, loaded in (("in_memory", sentence_vectors), ("mmap", np.load(folder / "s.npy", mmap_mode="r"))):
        units = SentenceUnits([], loaded, owner)
        faiss_t, old_t, new_t = [], [], []
        for q in qs:
            t0 = time.perf_counter()
            _, rows = index.nearest(q[None, :], DENSE)
            t1 = time.perf_counter()
            candidates = np.union1d(rows[0], rng.choice(n_chunks, min(LEXICAL, n_chunks), replace=False))
            t2 = time.perf_counter()
            best, _ = units.best(q, candidates)
            t3 = time.perf_counter()
            if label == "in_memory":
                reference = all_sentences(units, q, n_chunks)
                old_t.append(time.perf_counter() - t3)
                assert np.allclose(reference[candidates], best, atol=1e-5)
            faiss_t.append(t1 - t0)
            new_t.append(t3 - t2)
        row = {"faiss_flat_p50_ms": percentiles(faiss_t)[0], "candidates_only_p50_ms": percentiles(new_t)[0],
               "candidates_only_p90_ms": percentiles(new_t)[1]}
        if old_t:
            row |= {"all_sentences_p50_ms": percentiles(old_t)[0], "all_sentences_p90_ms": percentiles(old_t)[1],
                    "ratio_candidates_to_all": round(statistics.median(new_t) / statistics.median(old_t), 4)}
        out[label] = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
    del vectors, sentence_vectors, index, units, loaded
    gc.collect()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    import json

    with tempfile.TemporaryDirectory(prefix="cqqa-bench-scale-") as tmp:
        for n in args.chunks:
            print(json.dumps(bench(n, args.queries, Path(tmp))), flush=True)
    print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
