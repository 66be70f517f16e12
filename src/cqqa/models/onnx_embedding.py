"""The second embedding backend: the whole model, int8, on ONNX Runtime, for CPUs without bf16.

Without native bf16 the model runs in float32 in torch, about 3.4x slower than bf16. Here the
same sentence-transformers pipeline (Gemma encoder, mean pooling, both Dense projections,
normalisation) is exported once to ONNX from the verified weights, and its matrix
multiplications are quantised to int8 (dynamic activations, per-channel 7-bit weights), which
ONNX Runtime runs with VNNI or AVX2 integer kernels; so is the token embedding table (the file is
335 MB instead of 1.2 GB). The MLP down projections of the last third of the
layers stay float32: int8 rounds away what their inputs carry (all quantised, vectors drift to
cosine 0.967 of float32 on real chunks and sentences; with these 8 of 218 matrices kept, 0.991).

`onnx_export.prepare()` builds it into $CQQA_MODEL_DIR/embeddinggemma-300m-int8 (`cqqa models fetch` does it
on CPUs without bf16; `--only int8` anywhere). It is checked before it is kept: vectors of probe
texts must agree with torch float32 (cosine >= PROBE_MIN_COSINE), and a marker records the source
weights' SHA-256, the ONNX file's SHA-256, the probe figures, the float32 probe vectors
(PROBE_FILE) and the CPU class (cpu.py) the probe ran on. `OnnxEmbedder` refuses a file whose
hash or source no longer matches, and on another CPU class (another set of integer kernels: a
copied model cache, an image built elsewhere) or another ONNX Runtime it runs the probe again
before the first text (a fraction of a second): `Int8Disagrees` if the vectors drift there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from cqqa import config
from cqqa.errors import ModelFetchError
from cqqa.models import cpu, files
from cqqa.models.embedding import ModelIdentity, QueryCache, unit_vectors

MARKER = "cqqa-int8.json"
ONNX_FILE = "model.onnx"
PROBE_FILE = "probe-float32.npy"  # torch float32's vectors of PROBE_TEXTS, to probe again elsewhere
# 2: 7-bit weights, the probe vectors and the CPU class recorded (2026-11-30). An older file is
# prepared again by `cqqa models fetch`: its full-range weights drift on AVX2 CPUs.
FORMAT = 2
PROBE_MIN_COSINE = 0.98
# 7-bit weights. On CPUs without VNNI (AVX2, and AVX512 before Cascade Lake) ONNX Runtime
# multiplies u8 activations by s8 weights with vpmaddubsw, which sums pairs into 16 bits and
# saturates: 2 x 255 x 127 > 32,767. With weights in [-64, 63] the sum cannot overflow. Full-range
# weights probed at cosine 0.963 on an AVX2 machine and were refused; 7-bit weights agree with
# float32 on every class (docs/cpu.md; `python eval/int8_variants.py`).
REDUCE_RANGE = True
# One text per run. Dynamic quantisation scales activations per tensor, i.e. over the whole
# batch, padding included: in batches of 32 a query's vector moved with its batch-mates (cosine
# 0.987-0.993 to itself embedded alone), so `cqqa eval` (batched) did not score what the chat
# (one query) does, and an incremental rebuild did not reproduce a full one. Alone, every text
# gets its own scale: deterministic, closer to float32 (mean cosine 0.9944 vs 0.9911) and, with
# no padding, 1.12x faster on a build's mix of chunks and sentences (docs/performance.md, int8 backend).
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


class Int8Disagrees(ModelFetchError):
    """The int8 model's vectors drift from float32's on this CPU: torch must embed here."""


def _marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return None


def is_prepared(path: Path | None = None) -> bool:
    """A file of the current FORMAT is there (an older one counts as not prepared)."""
    marker = _marker(path or int8_model_path())
    return marker is not None and marker.get("format") == FORMAT


def verify(path: Path | None = None) -> dict:
    """Re-hash the ONNX file and its source weights against the marker; return the marker."""
    path = path or int8_model_path()
    marker = _marker(path)
    if marker is None:
        raise ModelFetchError(f"no int8 model in {path}; run `cqqa models fetch --only int8`")
    if marker.get("format") != FORMAT:
        raise ModelFetchError(f"the int8 model in {path} was prepared by an older cqqa (its weights drift on AVX2 "
                              "CPUs); run `cqqa models fetch --only int8 --force`")
    try:
        files.verify_file(path / ONNX_FILE, marker["onnx_sha256"], "int8 model")
        files.verify_file(path / PROBE_FILE, marker["probe_sha256"], "int8 probe vectors")
    except (ModelFetchError, OSError) as exc:
        raise ModelFetchError(f"{exc}; rebuild it: `cqqa models fetch --only int8 --force`") from None
    source = files.weights_sha256(marker["source"]) if Path(marker["source"]).is_dir() else None
    if source != marker["source_weights_sha256"]:
        raise ModelFetchError(
            f"the int8 model in {path} was built from other weights than {marker['source']}; "
            "run `cqqa models fetch --only int8 --force`")
    return marker


class OnnxEmbedder:
    """The Embedder interface (embedding.py) over the int8 ONNX file."""

    @classmethod
    def from_settings(cls, settings) -> "OnnxEmbedder":
        return cls(settings.model)

    def __init__(self, model: str, path: Path | None = None):
        from transformers import AutoTokenizer

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
        self.session = open_session(path / ONNX_FILE)
        self.check = check_here(self.session, self.tokenizer, self.prompts["document"], path, marker)
        self.dtype = "int8"
        self.identity = ModelIdentity(name=model, weights_sha256=marker["source_weights_sha256"],
                                      dim=self.session.get_outputs()[0].shape[-1], dtype="int8")
        self.query_cache = QueryCache(lambda texts: self._encode(texts, self.prompts["query"]))

    def encode_queries(self, queries: list[str]) -> np.ndarray:
        return self.query_cache.encode(queries)

    def encode_documents(self, texts: list[str], batch_size: int = BATCH, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.prompts["document"], batch_size, progress)

    def _encode(self, texts: list[str], prompt: str, batch_size: int = BATCH, progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

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


def open_session(onnx_file: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])


def probe(session, tokenizer, prompt: str, expected: np.ndarray) -> list[float]:
    """Cosines of the session's PROBE_TEXTS vectors (one text per run, as embedded) to `expected`."""
    got = np.concatenate([_run(session, tokenizer, [prompt + text]) for text in PROBE_TEXTS])
    cosines = (got * expected).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)
    return [float(c) for c in cosines]


def check_here(session, tokenizer, prompt: str, path: Path, marker: dict) -> dict:
    """The probe again where this CPU class or ONNX Runtime is not the one it was prepared with;
    Int8Disagrees if the vectors drift here. Returns what was checked, for `cqqa models verify`."""
    import onnxruntime

    here = cpu.cpu_class()
    check = {"prepared_on": marker["cpu_class"], "cpu_class": here, "probed_here": False,
             "probe_cosine_min": marker["probe_cosine_min"]}
    if here == marker["cpu_class"] and onnxruntime.__version__ == marker["versions"]["onnxruntime"]:
        return check
    cosines = probe(session, tokenizer, prompt, np.load(path / PROBE_FILE))
    check.update(probed_here=True, probe_cosine_min=round(min(cosines), 5))
    if min(cosines) < PROBE_MIN_COSINE:
        raise Int8Disagrees(
            f"the int8 embedder drifts from float32 on this CPU ({here}, prepared on {marker['cpu_class']}: probe "
            f"cosine {min(cosines):.3f} < {PROBE_MIN_COSINE}); prepare it here with "
            "`cqqa models fetch --only int8 --force`, or use CQQA_BACKEND=torch")
    return check


def _run(session, tokenizer, texts: list[str], max_length: int | None = None) -> np.ndarray:
    """One run of the exported pipeline over `texts` (padded to the longest; truncated to
    max_length when given): their sentence vectors as the model writes them."""
    tokens = tokenizer(texts, padding=True, truncation=max_length is not None, max_length=max_length,
                       return_tensors="np")
    return session.run(None, {"input_ids": tokens["input_ids"].astype(np.int64),
                              "attention_mask": tokens["attention_mask"].astype(np.int64)})[0]
