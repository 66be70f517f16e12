"""`cqqa calibrate`: fit when to say "not in the articles" to a corpus (evaluation/calibrate.py)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from cqqa.cli.common import Parents, bring_index_up_to_date, err, print_json, settings_from
from cqqa.errors import CqqaError


def cmd_calibrate(args) -> int:
    from cqqa.evaluation import calibrate
    from cqqa.retrieve.decision import FILE, Decision

    base = Decision.default()
    if args.signals:
        if not args.out:
            raise CqqaError("--signals needs --out FILE: where to write the decision fitted on them")
        groups = {Path(path).stem: calibrate.load_signals(Path(path)) for path in args.signals}
        how = f"cqqa calibrate --signals {' '.join(args.signals)} --max-refused {args.max_refused}"
        target = Path(args.out)
    else:
        if not args.set:
            raise CqqaError("give an evaluation file with --set FILE (or saved signals with --signals FILE...)")
        settings = settings_from(args)
        if args.source and not args.index:
            raise CqqaError("--source needs --index: give that corpus its own index folder, so the default index is kept")
        bring_index_up_to_date(settings)
        rows = _signals(args, settings, base)
        if args.signals_out:
            calibrate.save_signals(rows, Path(args.signals_out))
        groups = {Path(args.set).stem: rows}
        how = (f"cqqa calibrate --set {args.set} --max-refused {args.max_refused}"
               + (f" --hold-out {args.hold_out}" if args.hold_out else ""))
        target = Path(args.out) if args.out else settings.index_dir / FILE
    fitted = calibrate.fit(groups, base, args.max_refused, how)
    if args.json:
        print_json({"decision": asdict(fitted), "written": None if args.dry_run else str(target)})
    else:
        print(calibrate.format_fit(base, fitted, groups))
    if not args.dry_run:
        fitted.save(target)
        err(f"wrote {target}" + ("" if args.signals else "; `cqqa ask`, `serve` and `eval` on this index use it"))
    return 0


def _signals(args, settings, base):
    """Retrieve the set's questions (on a copy of the corpus without --hold-out articles) once."""
    from cqqa.evaluation import calibrate
    from cqqa.evaluation.evalset import load_eval_set
    from cqqa.evaluation.holdout import hold_out
    from cqqa.index.build import build_index
    from cqqa.retrieve.search import Searcher

    items = load_eval_set(Path(args.set))
    if not args.hold_out:
        return calibrate.collect(items, Searcher(settings, decision=base), progress=err)
    with tempfile.TemporaryDirectory(prefix="cqqa-holdout-") as scratch:
        items, removed = hold_out(items, settings.source_dir, Path(scratch) / "docs", args.hold_out)
        err(f"held out {len(removed)} articles ({', '.join(removed)}): their "
            f"{sum(not i.answerable for i in items)} questions are now unanswerable")
        index_dir = Path(scratch) / "index"
        if settings.store == "local":
            shutil.copytree(settings.index_dir, index_dir, ignore=shutil.ignore_patterns("*.lock"))  # reuse its vectors
        else:  # never a scratch version in the shared store: the copy is local, embedded again
            err(f"the held-out copy is indexed locally in {index_dir}, not in {settings.store}: every text is embedded again")
        held = replace(settings, source_dir=Path(scratch) / "docs", index_dir=index_dir, store="local")
        build_index(held, progress=True, warn=err)
        return calibrate.collect(items, Searcher(held, decision=base), progress=err)


def add_parsers(sub, parents: Parents) -> None:
    cal = sub.add_parser(
        "calibrate", parents=[parents.folders, parents.as_json],
        help='fit when to say "not in the articles" to a corpus, per language',
        description='Fit the similarity thresholds below which an answer is refused ("not in the articles"), '
                    "per language, on questions whose truth is known: an evaluation set with unanswerable "
                    "questions, or one whose articles you hold out (--hold-out N: N articles are left out of a "
                    "copy of the corpus and their questions become unanswerable). The fit refuses as many "
                    "unanswerable questions as it can while wrongly refusing at most --max-refused of the "
                    "answerable ones, and is written to the index folder (decision.json), where ask, serve "
                    "and eval find it. Without one, the default fitted on public corpora is used.")
    cal.add_argument("--set", help="evaluation file (JSONL); with --hold-out, each question's 'doc' names its article")
    cal.add_argument("--hold-out", type=int, default=0, metavar="N",
                     help="leave N articles out (spread over the corpus) and ask their questions as unanswerable")
    cal.add_argument("--max-refused", type=float, default=0.02, metavar="FRACTION",
                     help="the most answerable questions the fit may refuse, per corpus (default 0.02)")
    cal.add_argument("--out", metavar="FILE", help="where to write the decision (default: INDEX/decision.json)")
    cal.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    cal.add_argument("--signals-out", metavar="FILE", help="also save each question's signals (to fit several corpora together)")
    cal.add_argument("--signals", nargs="+", metavar="FILE",
                     help="fit on saved signals instead, one corpus per file (the default decision: eval/fit_decision.sh)")
    cal.set_defaults(func=cmd_calibrate)
