"""BM25 inside Milvus: the project's own tokens (what the Milvus store writes) against Milvus's
jieba analyzer, lexical retrieval only, on an evaluation set over an already built local index.

Three BM25 rankings of the same chunks (k1 1.5, b 0.75 in all three):
  local   bm25s over the project's tokens (index/lexical.py), the local store;
  ours    Milvus Lite BM25 over the same tokens written as hashed ASCII words (stores/milvus_parts.py);
  jieba   Milvus Lite BM25 over the chunk text, Traditional folded to Simplified and lower-cased,
          cut by Milvus's own `{"tokenizer": "jieba"}` analyzer.
R@1, R@5 and MRR@10 against the set's relevant chunks (evaluation/evaluate.relevant_chunks), per
language of the question. The question is used as asked (no follow-up rewriting, no name bridge).

    python eval/bench_milvus_tokenizer.py --set eval/cqqa-eval.jsonl --index index
    python eval/bench_milvus_tokenizer.py --set /tmp/cmrc100/eval.jsonl --index /tmp/cmrc100/index
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

from cqqa.evaluation.evalset import load_eval_set
from cqqa.evaluation.evaluate import relevant_chunks
from cqqa.index.lexical import tokenize
from cqqa.index.stores.milvus_parts import BM25_PARAMS, engine_tokens
from cqqa.index.stores.local import load_index
from cqqa.textnorm import to_simplified


def collection(client, name: str, tokenizer: str) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": tokenizer})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
    client.create_collection(name, schema=schema, index_params=params)


def folded(text: str) -> str:
    return to_simplified(text).lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True, help="a built local index folder")
    args = parser.parse_args()
    from pymilvus import MilvusClient

    index = load_index(args.index)
    items = [i for i in load_eval_set(args.set) if i.answerable]
    relevant = relevant_chunks(items, index.chunks)
    ids = [c.chunk_id for c in index.chunks]
    with tempfile.TemporaryDirectory() as tmp:
        client = MilvusClient(str(Path(tmp) / "bench.db"))
        for name, tokenizer, text_of in (("ours", "standard", lambda t: engine_tokens(tokenize(t) or ["<empty>"])),
                                         ("jieba", "jieba", folded)):
            collection(client, name, tokenizer)
            client.insert(name, [{"row": r, "text": text_of(c.text)} for r, c in enumerate(index.chunks)])
            client.flush(name)
        scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for item in items:
            tokens = tokenize(item.question)
            local = index.lexical.scores(tokens)
            rankings = {"local": [ids[r] for r in local.argsort()[::-1][:10] if local[r] > 0]}
            for name, query in (("ours", engine_tokens(tokens) if tokens else ""), ("jieba", folded(item.question))):
                hits = client.search(name, data=[query], anns_field="sparse", limit=10,
                                     output_fields=["row"])[0] if query.strip() else []
                rankings[name] = [ids[h["entity"]["row"]] for h in hits]
            for name, ranked in rankings.items():
                first = next((n for n, c in enumerate(ranked, 1) if c in relevant[item.id]), None)
                for group in ("all", f"lang={item.lang}"):
                    scores[group][name].append(first or 0)
    table = {}
    for group, by_name in scores.items():
        table[group] = {name: {"n": len(firsts), "R@1": round(sum(f == 1 for f in firsts) / len(firsts), 3),
                               "R@5": round(sum(0 < f <= 5 for f in firsts) / len(firsts), 3),
                               "MRR@10": round(sum(1 / f for f in firsts if f) / len(firsts), 3)}
                        for name, firsts in by_name.items()}
    print(json.dumps(table, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
