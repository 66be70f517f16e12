"""Sweep a weight of the ranking on an evaluation set, with the real pipeline.

--param lexical (default): the lexical weight of the fusion (RetrievalSettings.lexical_weight);
--param sentence: the best sentence's share of the dense score (RetrievalSettings.sentence_weight).

Query vectors are computed once (the embedder caches them); each weight then
costs only the ranking. Tune on a development set (CMRC 2018 dev), report the
chosen setting on a test set (DRCD test) that the sweep never saw:

    python eval/sweep_fusion.py --set ../shared/benchmarks/cmrc2018-dev/eval.jsonl \\
        --source ../shared/benchmarks/cmrc2018-dev/docs --index /tmp/idx-cmrc
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import replace
from pathlib import Path

from cqqa.config import RetrievalSettings, Settings
from cqqa.models.factory import load_embedder
from cqqa.evaluation.evalset import load_eval_set
from cqqa.evaluation.evaluate import evaluate
from cqqa.retrieve.search import Searcher

WEIGHTS = {"lexical": [0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8], "sentence": [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True)
    parser.add_argument("--index")
    parser.add_argument("--source")
    parser.add_argument("--param", choices=sorted(WEIGHTS), default="lexical")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.index:
        settings = dataclasses.replace(settings, index_dir=Path(args.index))
    if args.source:
        settings = dataclasses.replace(settings, source_dir=Path(args.source))
    items = load_eval_set(Path(args.set))
    embedder = load_embedder(settings)
    print(f"{'weight':>8}{'R@1':>8}{'R@5':>8}{'MRR@10':>8}  R@1 by language")
    for weight in WEIGHTS[args.param]:
        options = (replace(RetrievalSettings(), lexical_weight=weight) if args.param == "lexical"
                   else replace(RetrievalSettings(), sentence_weight=weight))
        searcher = Searcher(settings, embedder=embedder, retrieval=options)
        result = evaluate(items, searcher)
        m = result.metrics
        langs = " ".join(f"{lang}={v['recall@1']:.3f}" for lang, v in result.by_lang.items())
        u = result.unanswerable
        print(f"{weight:>8}{m['recall@1']:>8.3f}{m['recall@5']:>8.3f}{m['mrr@10']:>8.3f}  {langs}  "
              f"unanswerable flagged {u['flagged']}/{u['n']}, answerable flagged {u['answerable_wrongly_flagged']}",
              flush=True)


if __name__ == "__main__":
    main()
