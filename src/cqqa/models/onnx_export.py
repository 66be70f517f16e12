"""Building the int8 embedder's file (`cqqa models fetch` on CPUs without bf16; `--only int8`
anywhere): the verified float32 model exported once by torch.onnx, quantised by ONNX Runtime
(7-bit per-channel weights, REDUCE_RANGE), probed against torch float32 on this CPU and kept
only if it agrees; the runtime that uses it is `onnx_embedding.py`."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from cqqa import config
from cqqa.errors import ModelFetchError
from cqqa.models import cpu, files
from cqqa.textnorm import sha256_file
from cqqa.models.onnx_embedding import (FORMAT, MARKER, ONNX_FILE, PROBE_FILE, PROBE_MIN_COSINE, PROBE_TEXTS,
                                        REDUCE_RANGE, int8_model_path, is_prepared, open_session, probe)


def prepare(root: Path | None = None, *, force: bool = False,
            progress: Callable[[str], None] = lambda msg: None) -> Path:
    """Export, quantise and check the int8 model from the fetched float32 one; return its folder."""
    from filelock import FileLock

    root = root or config.model_dir()
    final = int8_model_path(root)
    if is_prepared(final) and not force:
        progress(f"int8 model already prepared: {final}")
        return final
    source = files.bundled_model_path(root)
    if not files.is_fetched(source):
        raise ModelFetchError(f"the embedding model is not fetched (looked in {source}); run `cqqa models fetch`")
    with FileLock(str(root / f".{final.name}.lock")):
        if is_prepared(final) and not force:
            return final
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
        try:
            started = time.monotonic()
            progress("exporting the embedding model to ONNX (about 2 minutes)")
            model = _load_float32(source)  # once, for the export and for the check against it
            _export(model, staging / "float32.onnx")
            progress(f"exported in {time.monotonic() - started:.0f} s; quantising to int8")
            excluded = _quantize(staging / "float32.onnx", staging / ONNX_FILE, _intermediate_size(source))
            (staging / "float32.onnx").unlink()
            progress("checking the int8 vectors against float32")
            expected = np.asarray(model.encode_document(PROBE_TEXTS, convert_to_numpy=True), dtype=np.float32)
            np.save(staging / PROBE_FILE, expected)
            session = open_session(staging / ONNX_FILE)
            cosines = probe(session, model.tokenizer, model.prompts["document"], expected)
            if min(cosines) < PROBE_MIN_COSINE:
                raise ModelFetchError(
                    f"the int8 model disagrees with float32 on this CPU ({cpu.cpu_class()}: probe cosine "
                    f"{min(cosines):.3f} < {PROBE_MIN_COSINE}); it was not kept. Use CQQA_BACKEND=torch")
            (staging / MARKER).write_text(json.dumps({
                "format": FORMAT, "source": str(source), "source_weights_sha256": files.weights_sha256(str(source)),
                "onnx_sha256": sha256_file(staging / ONNX_FILE),
                "probe_sha256": sha256_file(staging / PROBE_FILE),
                "quantisation": {"weights": "QInt8, per channel", "reduce_range": REDUCE_RANGE,
                                 "float32_matmuls_kept": excluded},
                "cpu_class": cpu.cpu_class(), "probe_cosine_min": round(min(cosines), 5),
                "probe_cosine_mean": round(float(np.mean(cosines)), 5), "versions": _versions(),
                "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }, indent=2))
            if final.exists():
                shutil.rmtree(final)
            staging.replace(final)
            progress(f"int8 model ready in {final} ({time.monotonic() - started:.0f} s, "
                     f"probe cosine min {min(cosines):.4f})")
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return final


def _load_float32(source: Path):
    import torch
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(source), device="cpu",
                               model_kwargs={"dtype": torch.float32, "attn_implementation": "eager"})


def _export(model, out: Path) -> None:
    """torch.onnx (dynamo) export of tokens -> unit sentence vector, dynamic batch and length."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self, st):
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            return self.st({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    example = model.tokenizer(["重庆", "an English example text"], padding=True, return_tensors="pt")
    batch, length = torch.export.Dim("batch", min=1, max=4096), torch.export.Dim("length", min=2, max=8192)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed. Skipping …"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on axis names and deprecated APIs
        program = torch.onnx.export(
            Pipeline(model).eval(), (example["input_ids"], example["attention_mask"]), dynamo=True,
            opset_version=18, input_names=["input_ids", "attention_mask"], output_names=["sentence_vector"],
            dynamic_shapes={"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}},
            verbose=False)
    program.save(str(out))


def _intermediate_size(source: Path) -> int:
    return json.loads((source / "config.json").read_text())["intermediate_size"]


def _quantize(src: Path, dst: Path, intermediate_size: int, reduce_range: bool = REDUCE_RANGE,
              weight_type: str = "QInt8") -> list[str]:
    """int8 for every weight matrix except the last third of the MLP down projections (the
    MatMuls whose weight is [intermediate, hidden], in layer order), and for the token embedding
    table (a Gather: 262,144 x 768, 805 MB in float32, 201 MB in int8). `reduce_range`: 7-bit
    weights (see REDUCE_RANGE); `weight_type` QUInt8 only for eval/int8_variants.py."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    shapes = {init.name: list(init.dims) for init in graph.initializer}
    down = [node.name for node in graph.node if node.op_type == "MatMul"
            and shapes.get(node.input[1], [None])[0] == intermediate_size]
    keep = down[len(down) - len(down) // 3:]
    root_logger = logging.getLogger()
    level = root_logger.level
    root_logger.setLevel(logging.ERROR)  # its advice to pre-process applies to static quantisation
    try:
        quantize_dynamic(str(src), str(dst), weight_type=getattr(QuantType, weight_type), per_channel=True,
                         reduce_range=reduce_range, nodes_to_exclude=keep,
                         op_types_to_quantize=["MatMul", "Gather"], extra_options={"MatMulConstBOnly": True})
    finally:
        root_logger.setLevel(level)
    return keep


def _versions() -> dict:
    import onnxruntime
    import torch
    import transformers

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "transformers": transformers.__version__}
