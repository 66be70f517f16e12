"""Where grounding.SUPPORT_MIN should sit, per backend and dtype: how similar a faithful English
sentence is to its Chinese source, and how similar it is to the closest *other* quote.

Faithful pairs are the reader's checked translations and the quotes they translate, from a
`cqqa eval --answers --reader --json` run; each is scored as grounding.py scores a generated
sentence (the English as a query, the Chinese as a document). The impostor of a translation is
the most similar quote of any other question (same articles, often the same topic; the same
quote cited by two questions, or one containing the other, does not count): what a sentence that
no given passage supports can reach.

    cqqa eval --set eval/cqqa-eval.jsonl --answers --reader --reader-limit 45 --json > /tmp/reader.json
    python eval/calibrate_support.py /tmp/reader.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cqqa.models import onnx_embedding
from cqqa.config import DEFAULT_MODEL
from cqqa.models.embedding import cpu_has_bf16
from cqqa.models.torch_embedding import SentenceTransformerEmbedder
from cqqa.answer.grounding import SUPPORT_MIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="JSON of `cqqa eval --answers --reader --json`")
    args = parser.parse_args()
    rows = json.load(open(args.run))["rows"]
    pairs = [(row["id"], t["text"], t["quote"]) for row in rows for t in row.get("translations", [])
             if t["status"] == "checked" and t["text"]]
    quotes = [p[2] for p in pairs]
    same = np.array([[a == b or a in b or b in a for b in quotes] for a in quotes])
    print(f"{len(pairs)} checked translations from {len({p[0] for p in pairs})} answers; SUPPORT_MIN = {SUPPORT_MIN}")
    backends = {"torch float32": lambda: SentenceTransformerEmbedder(DEFAULT_MODEL, "float32")}
    if cpu_has_bf16():
        backends["torch bfloat16"] = lambda: SentenceTransformerEmbedder(DEFAULT_MODEL, "bfloat16")
    if onnx_embedding.is_prepared():
        backends["onnx int8"] = lambda: onnx_embedding.OnnxEmbedder(DEFAULT_MODEL)
    print(f"{'backend':16} {'faithful min / p10 / median':>29} {'impostor median / p90 / max':>29} "
          f"{'faithful < min':>15} {'impostor >= min':>16}")
    for name, load in backends.items():
        embedder = load()
        english = embedder.encode_queries([p[1] for p in pairs])
        chinese = embedder.encode_documents([p[2] for p in pairs])
        scores = english @ chinese.T
        faithful = np.diag(scores)
        impostor = np.where(same, -1.0, scores).max(axis=1)
        print(f"{name:16} {faithful.min():9.3f} / {np.percentile(faithful, 10):.3f} / {np.median(faithful):.3f} "
              f"{np.median(impostor):13.3f} / {np.percentile(impostor, 90):.3f} / {impostor.max():.3f} "
              f"{(faithful < SUPPORT_MIN).sum():>10}/{len(pairs)} {(impostor >= SUPPORT_MIN).sum():>11}/{len(pairs)}")


if __name__ == "__main__":
    main()
