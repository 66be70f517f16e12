"""Sweep the fusion parameters on one or more evaluation sets.

Dense and lexical scores are computed once per question; each parameter setting
is then scored with a quick Recall@1 / MRR@10 (first relevant rank). Use it to
choose; confirm the choice with `cqqa eval` / `cqqa eval --compare`.

    python eval/sweep_fusion.py --set eval/cqqa-eval.jsonl [--index index] [--source docs_src]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path

import numpy as np

from cqqa.config import Settings
from cqqa.evalset import load_eval_set
from cqqa.evaluate import relevant_chunks
from cqqa.search import Searcher


def collect(searcher: Searcher, items):
    """Per question: dense scores (all chunks), lexical scores, coverage, relevant rows."""
    index = searcher.index
    row_of = {c.chunk_id: i for i, c in enumerate(index.chunks)}
    relevant = relevant_chunks(items, index.chunks)
    plans = [searcher.plan(i.question, i.history) for i in items]
    vectors = searcher.embedder.encode_queries([p.query for p in plans])
    out = []
    for item, plan, vector in zip(items, plans, vectors):
        out.append({
            "lang": item.lang, "kind": item.kind,
            "dense": index.vectors @ vector,
            "lexical": index.lexical.scores(plan.tokens),
            "coverage": plan.coverage,
            "relevant": np.array(sorted(row_of[c] for c in relevant[item.id]), dtype=np.int64),
        })
    return out


def score(rows, fuse) -> dict:
    r1, mrr, by_lang = [], [], {}
    for row in rows:
        fused = fuse(row)
        order = np.argsort(-fused, kind="stable")[:10]
        hit = np.flatnonzero(np.isin(order, row["relevant"]))
        rank = hit[0] + 1 if len(hit) else None
        r1.append(rank == 1)
        mrr.append(1 / rank if rank else 0.0)
        by_lang.setdefault(row["lang"], []).append(rank == 1)
    return {"r1": np.mean(r1), "mrr": np.mean(mrr), **{f"r1_{k}": np.mean(v) for k, v in sorted(by_lang.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True)
    parser.add_argument("--index")
    parser.add_argument("--source")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N questions")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.index:
        settings = dataclasses.replace(settings, index_dir=Path(args.index))
    if args.source:
        settings = dataclasses.replace(settings, source_dir=Path(args.source))
    items = [i for i in load_eval_set(Path(args.set)) if i.answerable]
    if args.limit:
        items = items[:args.limit]
    for bridge in (False, True):
        rows = collect(Searcher(settings, bridge_names=bridge), items)
        print(f"== name bridge {'on' if bridge else 'off'}; {len(rows)} questions")
        print("dense only", {k: round(v, 3) for k, v in score(rows, lambda r: r["dense"]).items()})
        for weight, power in itertools.product([0.05, 0.1, 0.15, 0.2, 0.3, 0.5], [1, 2, 4]):
            def fuse(r, w=weight, p=power):
                top = r["lexical"].max()
                return r["dense"] + (w * r["coverage"] ** p * r["lexical"] / top if top > 0 else 0)
            print(f"w={weight} p={power}", {k: round(v, 3) for k, v in score(rows, fuse).items()})


if __name__ == "__main__":
    main()
