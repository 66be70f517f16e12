"""The second embedding backend: the whole model, int8, on ONNX Runtime, for CPUs without bf16.

Without native bf16 the model runs in float32 in torch, about 3.4x slower than bf16. Here the
same sentence-transformers pipeline (Gemma encoder, mean pooling, both Dense projections,
normalisation) is exported once to ONNX from the verified weights, and its matrix
multiplications are quantised to int8 (dynamic activations, per-channel weights), which ONNX
Runtime runs with VNNI or AVX2 integer kernels; so is the token embedding table (the file is
335 MB instead of 1.2 GB). The MLP down projections of the last third of the
layers stay float32: int8 rounds away what their inputs carry (all quantised, vectors drift to
cosine 0.967 of float32 on real chunks and sentences; with these 8 of 218 matrices kept, 0.991).

`prepare()` builds it into $CQQA_MODEL_DIR/embeddinggemma-300m-int8 (`cqqa models fetch` does it
on CPUs without bf16; `--only int8` anywhere). It is checked before it is kept: vectors of probe
texts must agree with torch float32 (cosine >= PROBE_MIN_COSINE), and a marker records the source
weights' SHA-256, the ONNX file's SHA-256 and the probe figures. `OnnxEmbedder` refuses a file
whose hash or source no longer matches.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from cqqa import config
from cqqa.errors import ModelFetchError

MARKER = "cqqa-int8.json"
ONNX_FILE = "model.onnx"
PROBE_MIN_COSINE = 0.98
# One text per run. Dynamic quantisation scales activations per tensor, i.e. over the whole
# batch, padding included: in batches of 32 a query's vector moved with its batch-mates (cosine
# 0.987-0.993 to itself embedded alone), so `cqqa eval` (batched) did not score what the chat
# (one query) does, and an incremental rebuild did not reproduce a full one. Alone, every text
# gets its own scale: deterministic, closer to float32 (mean cosine 0.9944 vs 0.9911) and, with
# no padding, 1.12x faster on a build's mix of chunks and sentences (README, int8 backend).
BATCH = 1
PROBE_TEXTS = [
    "重庆是中国重要的汽车产业基地，2024年汽车产量达到254万辆。",
    "赛力斯与华为合作推出问界系列新能源汽车。",
    "What did Yin Qi say about AI 2.0?",
    "長安汽車計劃在2030年前推出多款智能網聯新能源車型。",
    "title: none | text: 新能源",
]


def int8_model_path(root: Path | None = None) -> Path:
    return (root or config.model_dir()) / f"{config.DEFAULT_MODEL}-int8"


def is_prepared(path: Path | None = None) -> bool:
    return (path or int8_model_path()).joinpath(MARKER).is_file()


def prepare(root: Path | None = None, *, force: bool = False,
            progress: Callable[[str], None] = lambda msg: None) -> Path:
    """Export, quantise and check the int8 model from the fetched float32 one; return its folder."""
    from filelock import FileLock

    from cqqa import models

    root = root or config.model_dir()
    final = int8_model_path(root)
    if is_prepared(final) and not force:
        progress(f"int8 model already prepared: {final}")
        return final
    source = models.bundled_model_path(root)
    if not models.is_fetched(source):
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
            cosines = _probe(model, staging / ONNX_FILE)
            if min(cosines) < PROBE_MIN_COSINE:
                raise ModelFetchError(
                    f"the int8 model disagrees with float32 (probe cosine {min(cosines):.3f} < {PROBE_MIN_COSINE}); "
                    "it was not kept. Use CQQA_BACKEND=torch")
            (staging / MARKER).write_text(json.dumps({
                "source": str(source), "source_weights_sha256": models.weights_sha256(str(source)),
                "onnx_sha256": models.sha256_file(staging / ONNX_FILE),
                "float32_matmuls_kept": excluded, "probe_cosine_min": round(min(cosines), 5),
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


def verify(path: Path | None = None) -> dict:
    """Re-hash the ONNX file and its source weights against the marker; return the marker."""
    from cqqa import models

    path = path or int8_model_path()
    if not is_prepared(path):
        raise ModelFetchError(f"no int8 model in {path}; run `cqqa models fetch --only int8`")
    marker = json.loads((path / MARKER).read_text())
    try:
        models.verify_file(path / ONNX_FILE, marker["onnx_sha256"], "int8 model")
    except (ModelFetchError, OSError) as exc:
        raise ModelFetchError(f"{exc}; rebuild it: `cqqa models fetch --only int8 --force`") from None
    source = models.weights_sha256(marker["source"]) if Path(marker["source"]).is_dir() else None
    if source != marker["source_weights_sha256"]:
        raise ModelFetchError(
            f"the int8 model in {path} was built from other weights than {marker['source']}; "
            "run `cqqa models fetch --only int8 --force`")
    return marker


class OnnxEmbedder:
    """The Embedder interface (embedding.py) over the int8 ONNX file."""

    def __init__(self, model: str, path: Path | None = None):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        from cqqa.embedding import ModelIdentity, QueryCache

        if model != config.DEFAULT_MODEL:
            raise ModelFetchError(f"the int8 backend exists only for the bundled model, not {model!r}; "
                                  "use CQQA_BACKEND=torch")
        path = path or int8_model_path()
        marker = verify(path)
        source = Path(marker["source"])
        self.tokenizer = AutoTokenizer.from_pretrained(source)
        st_config = json.loads((source / "config_sentence_transformers.json").read_text())
        self.prompts = st_config["prompts"]
        self.max_length = json.loads((source / "sentence_bert_config.json").read_text())["max_seq_length"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        self.dtype = "int8"
        self.identity = ModelIdentity(name=model, weights_sha256=marker["source_weights_sha256"],
                                      dim=self.session.get_outputs()[0].shape[-1], dtype="int8")
        self._queries = QueryCache(lambda texts: self._encode(texts, self.prompts["query"]))

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        return self._queries.encode(queries)

    def encode_documents(self, texts: list[str], batch_size: int = BATCH, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts["document"], batch_size, progress)

    def _encode(self, texts: list[str], prompt: str, batch_size: int = BATCH, progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

        from cqqa.embedding import unit_vectors

        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch
        out = np.empty((len(texts), self.identity.dim), dtype=np.float32)
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                out[rows] = _run(self.session, self.tokenizer, [prompt + texts[i] for i in rows], self.max_length)
                bar.update(len(rows))
        return unit_vectors(out)


def _run(session, tokenizer, texts: list[str], max_length: int | None = None) -> np.ndarray:
    """One run of the exported pipeline over `texts` (padded to the longest; truncated to
    max_length when given): their sentence vectors as the model writes them."""
    tokens = tokenizer(texts, padding=True, truncation=max_length is not None, max_length=max_length,
                       return_tensors="np")
    return session.run(None, {"input_ids": tokens["input_ids"].astype(np.int64),
                              "attention_mask": tokens["attention_mask"].astype(np.int64)})[0]


# ------------------------------------------------------------------ building the file

def _load_float32(source: Path):
    import torch
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
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


def _quantize(src: Path, dst: Path, intermediate_size: int) -> list[str]:
    """int8 for every weight matrix except the last third of the MLP down projections (the
    MatMuls whose weight is [intermediate, hidden], in layer order), and for the token embedding
    table (a Gather: 262,144 x 768, 805 MB in float32, 201 MB in int8)."""
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
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep,
                         op_types_to_quantize=["MatMul", "Gather"], extra_options={"MatMulConstBOnly": True})
    finally:
        root_logger.setLevel(level)
    return keep


def _probe(model, onnx_file: Path) -> list[float]:
    import onnxruntime as ort

    expected = model.encode_document(PROBE_TEXTS, convert_to_numpy=True)
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    prompt = model.prompts["document"]
    # one at a time, as OnnxEmbedder runs them
    got = np.concatenate([_run(session, model.tokenizer, [prompt + text]) for text in PROBE_TEXTS])
    expected = np.asarray(expected)
    cosines = (got * expected).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    return [float(c) for c in cosines]


def _versions() -> dict:
    import onnxruntime
    import torch
    import transformers

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "transformers": transformers.__version__}
