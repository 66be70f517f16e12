"""How the int8 embedder's quantisation choices fare on this CPU: cosine to torch float32 on the
build's real mix of texts, the 5-text probe, and speed. Two steps, so that the second can run
under an emulated CPU (`eval/emulate_cpu.py`), where only ONNX Runtime is needed:

    python eval/int8_variants.py export --out /tmp/int8v            # float32 export, variants, references
    python eval/int8_variants.py measure --dir /tmp/int8v --runs 3  # here: speed and cosines
    python eval/emulate_cpu.py Haswell -- eval/int8_variants.py measure --dir /tmp/int8v --probe-only --threads 1

`export` loads the verified float32 model once, exports it as `cqqa models fetch` does, quantises
it each way below, and stores the texts (the first --chunks CMRC chunks and their sentences,
what an index build embeds) with their torch float32 vectors. `measure` embeds them one text per
run, as the product does, with each variant, alternating variants run by run; with --torch it
also times torch float32 in the same run (the ratio the README reports). Speeds under emulation
mean nothing; the cosines are what the emulated CPU's kernels compute (about a minute a text
under QEMU 7.2 on a 2-core machine: the probe is what it can afford).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# name -> (weight type, reduce_range): the file as shipped until 2026-11-30, 7-bit weights, u8 weights
VARIANTS = {"s8": ("QInt8", False), "s8-7bit": ("QInt8", True), "u8": ("QUInt8", False)}


def export(args) -> None:
    from bench_embedding import first_chunks  # eval/, beside this script
    from cqqa.models import files as models
    from cqqa.models import onnx_embedding, onnx_export
    from cqqa.index.build import embed_input
    from cqqa.config import Settings
    from cqqa.index.sentence_units import sentence_units

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = models.bundled_model_path()
    model = onnx_export._load_float32(source)
    chunks = first_chunks(Path(args.source), args.chunks, Settings.from_env())
    texts = [embed_input(c) for c in chunks] + sentence_units(chunks)[0]
    prompt = model.prompts["document"]
    (out / "texts.json").write_text(json.dumps({"prompt": prompt, "texts": texts, "probe": onnx_embedding.PROBE_TEXTS,
                                                "source": str(source)}, ensure_ascii=False))
    np.save(out / "reference.npy", model.encode_document(texts, convert_to_numpy=True))
    np.save(out / "probe.npy", model.encode_document(onnx_embedding.PROBE_TEXTS, convert_to_numpy=True))
    onnx_export._export(model, out / "float32.onnx")
    size = onnx_export._intermediate_size(source)
    for name, (weight_type, reduce_range) in VARIANTS.items():
        onnx_export._quantize(out / "float32.onnx", out / f"{name}.onnx", size, reduce_range, weight_type)
        print(f"{name}: {(out / f'{name}.onnx').stat().st_size / 1e6:.0f} MB")


def measure(args) -> None:
    import onnxruntime as ort
    from transformers import AutoTokenizer

    from cqqa.models.cpu import cpu_class
    from cqqa.models.onnx_embedding import _run
    from cqqa.models.onnx_embedding import probe as probe_cosines

    folder = Path(args.dir)
    meta = json.loads((folder / "texts.json").read_text())
    rows = np.arange(len(meta["texts"]))
    if args.probe_only:
        rows = rows[:0]
    elif args.texts:  # evenly spread over the mix, so chunks and sentences keep their proportion
        rows = np.unique(np.linspace(0, len(rows) - 1, args.texts).round().astype(int))
    texts = [meta["texts"][i] for i in rows]
    reference = np.load(folder / "reference.npy")[rows]
    probe_reference = np.load(folder / "probe.npy")
    tokenizer = AutoTokenizer.from_pretrained(meta["source"])
    prompt = meta["prompt"]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if args.threads:
        options.intra_op_num_threads = args.threads
    names = [n for n in args.variants.split(",") if n]
    sessions = {n: ort.InferenceSession(str(folder / f"{n}.onnx"), options, providers=["CPUExecutionProvider"])
                for n in names}
    tokens = sum(len(tokenizer(prompt + t)["input_ids"]) for t in texts)
    print(f"CPU class seen by this process: {cpu_class()}; {len(texts)} texts, {tokens} model tokens, "
          f"onnxruntime {ort.__version__}", flush=True)

    def one_by_one(session, items):
        return np.concatenate([_run(session, tokenizer, [prompt + t]) for t in items])

    timers = {n: [] for n in names}
    vectors = {}
    torch_model = None
    if args.torch:
        from cqqa.models import onnx_export

        torch_model = onnx_export._load_float32(Path(meta["source"]))
        timers["torch float32"] = []
    for _ in range(args.runs if texts else 0):
        for name in names:
            started = time.perf_counter()
            vectors[name] = one_by_one(sessions[name], texts)
            timers[name].append(time.perf_counter() - started)
            print(f"  {name}: {timers[name][-1]:.1f} s", flush=True)
        if torch_model is not None:
            started = time.perf_counter()
            torch_model.encode_document(texts, batch_size=32, convert_to_numpy=True)
            timers["torch float32"].append(time.perf_counter() - started)
    base = statistics.median(timers["torch float32"]) if torch_model is not None else None
    print(f"{'variant':14} {'median s':>9} {'texts/s':>8} {'vs torch f32':>12} {'cosine min':>10} {'mean':>7} "
          f"{'probe min':>9}")
    rows = {}
    for name in names:
        probe = np.array(probe_cosines(sessions[name], tokenizer, prompt, probe_reference))  # as the product probes
        if not texts:
            print(f"{name:14} probe min {probe.min():.4f}, mean {probe.mean():.4f}", flush=True)
            rows[name] = {"probe_min": float(probe.min()), "probe_mean": float(probe.mean())}
            continue
        median = statistics.median(timers[name])
        cos = _cosines(vectors[name], reference)
        ratio = f"{base / median:11.2f}x" if base else f"{'-':>12}"
        print(f"{name:14} {median:9.2f} {len(texts) / median:8.2f} {ratio} {cos.min():10.4f} {cos.mean():7.4f} "
              f"{probe.min():9.4f}", flush=True)
        rows[name] = {"seconds": median, "cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
                      "probe_min": float(probe.min())}
    if base:
        print(f"{'torch float32':14} {base:9.2f} {len(texts) / base:8.2f} {1:11.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu_class": cpu_class(), "texts": len(texts), "variants": rows,
                                               "torch_float32_seconds": base}, indent=2))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("export", help="export float32, quantise each variant, store texts and references")
    p.add_argument("--out", required=True)
    p.add_argument("--source", default="../shared/benchmarks/cmrc2018-dev/docs")
    p.add_argument("--chunks", type=int, default=32)
    p.set_defaults(func=export)
    p = sub.add_parser("measure", help="cosines and speed of each variant on this CPU")
    p.add_argument("--dir", required=True)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--texts", type=int, default=0, help="only N texts, evenly spread over the mix (0: all)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--probe-only", action="store_true", help="only the 5 probe texts (what an emulator can afford)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: its default; 1 under an emulator)")
    p.add_argument("--torch", action="store_true", help="also time torch float32 in the same run")
    p.add_argument("--json", help="write the figures here")
    p.set_defaults(func=measure)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
