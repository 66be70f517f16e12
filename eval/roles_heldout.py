"""Count the questions of an evaluation set that the subject lookup (roles.py) changes: those
asking who someone is or what their job is, and of those, the ones naming a person whose title
the corpus gives; and those asking only what a named person or organisation is. Run on the held-out subsets (eval/heldout_subset.py) with their built index:

    python eval/roles_heldout.py /tmp/ho/drcd-test     # reads eval.jsonl and index/ there

2026-11-25: CMRC 2018 dev (100 articles) 14 of 355 ask, 0 find a title; DRCD test (100
articles) 30 of 1,283 ask, 0 find one: they ask who did something, not who a named person is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cqqa.evaluation.evalset import load_eval_set
from cqqa.index.stores.local import load_index
from cqqa.retrieve.roles import asks_who_is, overview_subjects, role_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a folder with eval.jsonl and index/")
    args = parser.parse_args()
    index = load_index(args.folder / "index")
    items = load_eval_set(args.folder / "eval.jsonl")
    asking = [item for item in items if asks_who_is(item.question)]
    found = 0
    for item in asking:
        rows = role_rows(item.question, index.names.subjects_in(item.question), index.sentences.texts)
        if rows:
            found += 1
            print(f"{item.id}  {item.question}  ->  {index.sentences.texts[rows[0]]}")
    print(f"{len(items)} questions, {len(asking)} ask who someone is or their job, {found} name a person "
          "whose title (or an organisation whose title holder) the corpus gives")
    overview = [item for item in items if overview_subjects(item.question, index.names)]
    for item in overview:
        print(f"{item.id}  {item.question}  ->  what is {', '.join(overview_subjects(item.question, index.names))}")
    print(f"{len(overview)} ask only what a person or organisation the corpus writes is")


if __name__ == "__main__":
    main()
