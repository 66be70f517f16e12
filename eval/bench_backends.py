"""Embedding throughput per backend and dtype on the build's real mix of texts, and how far each
backend's vectors are from torch float32's.

Takes the first N chunks of a corpus (default: CMRC 2018 dev) and their sentences: exactly the
texts an index build embeds. Each backend encodes them `--runs` times, alternating backends run by
run so that a slow stretch of the machine hits them all; medians are reported, with the ratio to
torch float32 measured in the same run:

    python eval/bench_backends.py --chunks 32 --runs 3

Backends: torch float32, torch bfloat16 (only where the CPU has native bf16; emulated bf16 is
slower than float32), and int8 ONNX (`cqqa models fetch --only int8` prepares it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench_embedding import first_chunks  # eval/, beside this script
from cqqa.models import onnx_embedding
from cqqa.index.build import embed_input
from cqqa.config import DEFAULT_MODEL, Settings
from cqqa.models.cpu import cpu_class
from cqqa.models.embedding import cpu_has_bf16
from cqqa.models.torch_embedding import SentenceTransformerEmbedder
from cqqa.index.sentence_units import sentence_units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="../shared/benchmarks/cmrc2018-dev/docs")
    parser.add_argument("--chunks", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    chunks = first_chunks(Path(args.source), args.chunks, Settings.from_env())
    texts = [embed_input(c) for c in chunks] + sentence_units(chunks)[0]

    loaders = {"torch float32": lambda: SentenceTransformerEmbedder(DEFAULT_MODEL, "float32")}
    if cpu_has_bf16():
        loaders["torch bfloat16"] = lambda: SentenceTransformerEmbedder(DEFAULT_MODEL, "bfloat16")
    if onnx_embedding.is_prepared():
        loaders["onnx int8"] = lambda: onnx_embedding.OnnxEmbedder(DEFAULT_MODEL)
    else:
        print("int8 ONNX not prepared (`cqqa models fetch --only int8`): left out")
    backends, load_seconds = {}, {}
    for name, load in loaders.items():
        started = time.perf_counter()
        backends[name] = load()
        load_seconds[name] = time.perf_counter() - started
    tokenizer = backends["torch float32"].model.tokenizer
    prompt = backends["torch float32"].model.prompts["document"]
    tokens = sum(len(tokenizer(prompt + t)["input_ids"]) for t in texts)
    print(f"CPU class {cpu_class()}; {len(chunks)} chunks + {len(texts) - len(chunks)} sentences = {len(texts)} texts, "
          f"{tokens} model tokens")

    for embedder in backends.values():
        embedder.encode_documents(texts[:4])  # warm-up
    seconds = {name: [] for name in backends}
    vectors = {}
    for _ in range(args.runs):
        for name, embedder in backends.items():
            started = time.perf_counter()
            vectors[name] = embedder.encode_documents(texts)
            seconds[name].append(time.perf_counter() - started)

    base = statistics.median(seconds["torch float32"])
    print(f"{'backend':16} {'load s':>6} {'median s':>9} {'texts/s':>8} {'tokens/s':>9} {'vs f32':>7} "
          f"{'cosine to f32 min/mean':>24}")
    for name in backends:
        median = statistics.median(seconds[name])
        cosines = (vectors[name] * vectors["torch float32"]).sum(axis=1)
        print(f"{name:16} {load_seconds[name]:6.1f} {median:9.2f} {len(texts) / median:8.2f} {tokens / median:9.0f} {base / median:6.2f}x "
              f"{cosines.min():12.4f} / {cosines.mean():.4f}")


if __name__ == "__main__":
    main()
