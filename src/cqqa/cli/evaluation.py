"""`cqqa eval`, `cqqa ablate` and `cqqa bench`: scores and timings."""

from __future__ import annotations

import json
from pathlib import Path

from cqqa.cli.common import Parents, bring_index_up_to_date, err, print_json, settings_from
from cqqa.config import MODES, Settings
from cqqa.errors import CqqaError


def cmd_eval(args) -> int:
    from cqqa.evaluation import evaluate
    from cqqa.config import RetrievalSettings
    from cqqa.evaluation.evalset import TEMPLATE, load_eval_set
    from cqqa.retrieve.decision import Decision
    from cqqa.retrieve.search import Searcher

    if args.template:
        return _write_template(Path(args.template), TEMPLATE)
    if args.compare:
        result = evaluate.compare(Path(args.compare[0]), Path(args.compare[1]))
        print_json(result) if args.json else print(evaluate.format_comparison(result))
        if args.report:
            _compare_report(args, result)
        return 0
    if not args.set:
        raise CqqaError("give an evaluation file with --set FILE (or two result files with --compare A B; "
                        "`--template FILE` writes a starter set)")
    items = load_eval_set(Path(args.set))
    settings = _index_for_eval(args)
    decision = Decision.load(Path(args.decision)) if args.decision else None
    searcher = Searcher(settings, retrieval=RetrievalSettings(mode=args.mode), decision=decision)
    source = _reader_source(settings, require=True if args.reader else None)  # kept alive until the end
    searcher.judge = source.judge(warn=err)  # as the chat decides near misses (CQQA_JUDGE=0: scores alone)
    if args.answers:
        from cqqa.evaluation.answer_eval import evaluate_answers, format_answers

        reader = source.reader(searcher.index.names) if args.reader else None
        answers = evaluate_answers(items, searcher, progress=err, reader=reader, reader_limit=args.reader_limit)
        print_json(answers) if args.json else print(format_answers(answers))
        _report(args, settings, searcher, answers, answers=True)
        return 0
    result = evaluate.evaluate(items, searcher, k=args.k, progress=err)
    if args.hits_out:
        with open(args.hits_out, "w", encoding="utf-8") as out:
            for row in result.hits:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print_json(result.to_dict()) if args.json else print(evaluate.format_table(result))
    _report(args, settings, searcher, result.to_dict(), answers=False)
    return 0


def _report(args, settings, searcher, result: dict, answers: bool) -> None:
    """`--report FILE`: the run as one self-contained HTML page (evaluation/report.py)."""
    import sys

    from cqqa.evaluation import report, report_page

    if not args.report:
        return
    decision_file = args.decision or str(settings.index_dir / "decision.json")
    ctx = report.context(settings, searcher, ["cqqa", *sys.argv[1:]], decision_file)
    build = report.answers_report if answers else report.retrieval_report
    report_page.write(Path(args.report), report_page.render(build(result, ctx, Path(args.set).name), args.server or ""))
    err(f"wrote the report to {args.report}")


def _compare_report(args, comparison: dict) -> None:
    import sys
    import time

    from cqqa.evaluation import report, report_page

    runs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.compare]
    ctx = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(["cqqa", *sys.argv[1:]]),
           "a": args.compare[0], "b": args.compare[1]}
    report_page.write(Path(args.report), report_page.render(report.compare_report(comparison, *runs, ctx)))
    err(f"wrote the comparison to {args.report}")


def _write_template(path: Path, text: str) -> int:
    if path.exists():
        raise CqqaError(f"{path} exists; give another name (nothing was written)")
    path.write_text(text, encoding="utf-8")
    err(f"wrote a starter evaluation set to {path}: edit it, then `cqqa eval --set {path}`")
    return 0


def _reader_source(settings: Settings, require: bool | None):
    """The reader the chat would run (a server set by CQQA_LLM_BASE_URL, whatever its mode, else
    the bundled one when fetched, unless CQQA_READER=0): it judges near misses and, with --reader,
    translates."""
    from dataclasses import replace

    from cqqa.answer.readers import ReaderSource

    return ReaderSource.open(replace(settings.llm, mode="translate"), settings.reader, require=require)


def _index_for_eval(args) -> Settings:
    """Settings for eval/ablate, with the index brought up to date first."""
    if args.source and not args.index:
        raise CqqaError("--source needs --index: give that corpus its own index folder, so the default index is kept")
    settings = settings_from(args)
    bring_index_up_to_date(settings)
    return settings


def cmd_ablate(args) -> int:
    from cqqa.evaluation import evaluate
    from cqqa.evaluation.evalset import load_eval_set

    items = load_eval_set(Path(args.set))
    result = evaluate.ablate(items, _index_for_eval(args), progress=err)
    print_json(result) if args.json else print(evaluate.format_ablation(result))
    return 0


def cmd_bench(args) -> int:
    from cqqa.evaluation import bench

    result = bench.run(settings_from(args), runs=args.runs, progress=err, reference=args.reference)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    return 0


def add_parsers(sub, parents: Parents) -> None:
    folders, source_only, as_json = parents.folders, parents.source_only, parents.as_json
    ev = sub.add_parser("eval", parents=[folders, as_json], help="score retrieval on an evaluation set (Recall@k, MRR, nDCG)",
                        description="Run every question of a JSONL evaluation set through the product's own "
                                    "retrieval path (follow-up handling included) and score it with ranx, "
                                    "overall and per language and kind. The index is built first if it is "
                                    "missing or stale.")
    ev.add_argument("--set", help="evaluation file (JSONL: id, kind, lang, question, history, evidence, doc)")
    ev.add_argument("--k", type=int, default=10, help="passages retrieved per question (default 10)")
    ev.add_argument("--hits-out", metavar="FILE", help="write one JSON line per question with its hits")
    ev.add_argument("--compare", nargs=2, metavar=("RUN_A.json", "RUN_B.json"),
                    help="compare two `--json` results with a paired significance test")
    ev.add_argument("--answers", action="store_true",
                    help="score the answers instead of the retrieval: do the quoted sentences contain the "
                         "evidence, are the refusals right, how many characters are quoted, how long each answer "
                         "takes (answer_eval.py). Refusals are decided as the chat decides them: where a reader "
                         "runs, it judges the unsure ones (CQQA_JUDGE=0: by the scores alone)")
    ev.add_argument("--reader", action="store_true",
                    help="with --answers: also translate the English answers' quotes with the reader (the bundled "
                         "one, or CQQA_LLM_BASE_URL) and score the translations: checked/withheld, English facts "
                         "recalled, seconds to the first token and to the whole answer (about 12 s per answer)")
    ev.add_argument("--reader-limit", type=int, metavar="N",
                    help="with --reader: translate only the first N English answers")
    ev.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode to score (default hybrid)")
    ev.add_argument("--report", metavar="FILE.html",
                    help="also write the run as one self-contained HTML page (no network needed to open it): "
                         "headline figures with the run's context, Recall@k per language, the gold passage's rank, "
                         "the refusal trade-off with the decision marked, time per question, and every miss with "
                         "the decision's reason, filterable by language, kind and miss; with --answers, the answers' "
                         "figures and misses; with --compare, what changed between the two runs")
    ev.add_argument("--server", metavar="URL", help="with --report: link each passage to its article on this running "
                                                    "`cqqa serve` (e.g. http://127.0.0.1:7860)")
    ev.add_argument("--decision", metavar="FILE", help="decide refusals with this decision file (from `cqqa calibrate`) "
                                                       "instead of the index's, e.g. to --compare two decisions")
    ev.add_argument("--template", metavar="FILE", help="write a commented starter evaluation set to FILE and stop")
    ev.set_defaults(func=cmd_eval)
    ab = sub.add_parser("ablate", parents=[folders, as_json], help="score every retrieval stage on an evaluation set, per language",
                        description="Run the set through lexical only, dense only, naive fusion (RRF), "
                                    "the product's fusion without and with the name bridge, sentence level and "
                                    "who-is lookup; print one table.")
    ab.add_argument("--set", required=True, help="evaluation file")
    ab.set_defaults(func=cmd_ablate)
    bench = sub.add_parser("bench", parents=[source_only, as_json], help="time index builds and searches (medians over runs)",
                           description="Build the index from the sources several times in a temporary folder "
                                       "and run a fixed set of English and Chinese queries; report medians, "
                                       "the query-embedding baseline, chunk sizes and peak memory.")
    bench.add_argument("--runs", type=int, default=5, help="repetitions (default 5)")
    bench.add_argument("--reference", action="store_true",
                       help="also time torch float32 embedding the chunk texts alone (no sentences, no index) and "
                            "report the cold build as a ratio of it (loads a second, float32 model)")
    bench.set_defaults(func=cmd_bench)
