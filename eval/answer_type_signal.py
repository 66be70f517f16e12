"""How often what an answer would quote holds a candidate of the type the question asks for —
a quantity, a time, a person, a place — on answerable questions and on unanswerable ones
(issue 33: "measure how often the check holds on answerable questions before you let it refuse").

For each question of a set: its asked type from its form (quotes.ASKS_QUANTITY / ASKS_TIME, and
who / 谁 for a person, where / 哪里 for a place); the sentences the extractive answer would quote
(composed as if the decision had said answerable); whether they write a candidate of that type
(quotes.QUANTITY / DATE; jieba's part-of-speech tags nr / ns for people and places). Prints, per
language, type and label (answerable or not), how many questions ask for that type and in how
many the quotes hold a candidate. Then the absent-year rule with a wider year (1000-2099, not only
textnorm.YEAR's 1900-2099): how many questions name a year the corpus never writes, by label.

    python eval/answer_type_signal.py --set ../shared/benchmarks/xquad-dev-near-misses/eval-en.jsonl \
        --source ../shared/benchmarks/xquad-dev-near-misses/docs --index /tmp/xq-index
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

from cqqa.answer.compose import compose_extractive
from cqqa.answer.quotes import ASKS_QUANTITY, ASKS_TIME, DATE, QUANTITY
from cqqa.config import Settings
from cqqa.evaluation.evalset import load_eval_set
from cqqa.retrieve.search import Searcher
from cqqa.textnorm import jieba, to_simplified

ASKS_PERSON = re.compile(r"\bwho(?:m|se)?\b|谁|誰", re.I)
WIDE_YEAR = re.compile(r"(?<![\d.])(?:1\d|20)\d\d(?![\d.%])")  # 1000-2099
ASKS_PLACE = re.compile(r"\bwhere\b|哪里|哪裡|哪儿|何处|何處|什么地方|什麼地方", re.I)


def asked_type(question: str) -> str | None:
    for name, pattern in (("quantity", ASKS_QUANTITY), ("time", ASKS_TIME), ("person", ASKS_PERSON),
                          ("place", ASKS_PLACE)):
        if pattern.search(question):
            return name
    return None


def has_candidate(kind: str, text: str) -> bool:
    if kind == "quantity":
        return bool(QUANTITY.search(text))
    if kind == "time":
        return bool(DATE.search(text))
    import jieba.posseg as posseg

    jieba()
    tags = {"person": ("nr", "nrfg", "nrt"), "place": ("ns",)}[kind]
    return any(flag in tags for _, flag in posseg.lcut(to_simplified(text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = dataclasses.replace(Settings.from_env(), source_dir=Path(args.source), index_dir=Path(args.index))
    searcher = Searcher(settings)
    counts: Counter = Counter()
    corpus = " ".join(searcher.index.document_texts().values())
    written = set(WIDE_YEAR.findall(corpus))
    years: Counter = Counter()
    for item in load_eval_set(Path(args.set)):
        label = "answerable" if item.answerable else "unanswerable"
        named = set(WIDE_YEAR.findall(item.question))
        years[(label, "questions")] += 1
        years[(label, "name a year")] += bool(named)
        years[(label, "name a year never written")] += bool(named - written)
        kind = asked_type(item.question)
        if kind is None:
            continue
        retrieval = dataclasses.replace(searcher.retrieve(item.question, 5, item.history), answerable=True)
        quoted = " ".join(q for c in compose_extractive(item.question, retrieval).citations for q in c.quotes)
        key = (item.lang, kind, label)
        counts[key + ("asked",)] += 1
        counts[key + ("candidate",)] += has_candidate(kind, quoted)
    rows = sorted({k[:3] for k in counts})
    table = [{"lang": lang, "type": kind, "label": label, "asked": counts[(lang, kind, label, "asked")],
              "quotes_hold_a_candidate": counts[(lang, kind, label, "candidate")]} for lang, kind, label in rows]
    year_rows = {label: {k[1]: v for k, v in years.items() if k[0] == label} for label in ("answerable", "unanswerable")}
    if args.json:
        print(json.dumps({"types": table, "years": year_rows}, ensure_ascii=False, indent=1))
        return
    print(f"{'lang':8} {'type':9} {'label':13} {'asked':>6} {'candidate in quotes':>20}")
    for row in table:
        share = row["quotes_hold_a_candidate"] / row["asked"]
        print(f"{row['lang']:8} {row['type']:9} {row['label']:13} {row['asked']:6} "
              f"{row['quotes_hold_a_candidate']:>10} ({share:.0%})")
    for label, row in year_rows.items():
        print(f"{label}: " + ", ".join(f"{k} {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
