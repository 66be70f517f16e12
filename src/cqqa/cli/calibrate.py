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
               + (f" --hold-out {args.hold_out}" if args.hold_out else "")
               + (" --near-misses" if args.near_misses else ""))
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
    """Retrieve the set's questions once: on the corpus itself, or on copies of it without the
    --hold-out articles and without one paragraph of each article (--near-misses), each copy its
    own group of questions (the fit must hold in each)."""
    from cqqa.evaluation import calibrate
    from cqqa.evaluation.evalset import load_eval_set
    from cqqa.retrieve.search import Searcher

    items = load_eval_set(Path(args.set))
    if args.hold_out and args.near_misses:
        raise CqqaError("choose --hold-out N or --near-misses: each makes its own copy of the corpus; "
                        "run calibrate with --signals-out for each and fit them together with --signals")
    if not args.hold_out and not args.near_misses:
        return calibrate.collect(items, Searcher(settings, decision=base), progress=err)
    from cqqa.evaluation.holdout import hold_out, near_misses

    with tempfile.TemporaryDirectory(prefix="cqqa-holdout-") as scratch:
        if args.hold_out:
            items, removed = hold_out(items, settings.source_dir, Path(scratch) / "docs", args.hold_out)
            err(f"held out {len(removed)} articles ({', '.join(removed)}): their "
                f"{sum(not i.answerable for i in items)} questions are now unanswerable")
        else:
            items, removed = near_misses(items, settings.source_dir, Path(scratch) / "docs")
            err(f"removed one paragraph from each of {len(removed)} articles: "
                f"{sum(not i.answerable for i in items)} questions on them are now unanswerable (near misses)")
        return calibrate.collect(items, _scratch_searcher(settings, Path(scratch), base), progress=err)


def _scratch_searcher(settings, scratch: Path, base):
    """A Searcher over the corpus copy in scratch/docs, indexed in scratch/index."""
    from cqqa.index.build import build_index
    from cqqa.retrieve.search import Searcher

    index_dir = scratch / "index"
    if settings.store == "local":
        shutil.copytree(settings.index_dir, index_dir, ignore=shutil.ignore_patterns("*.lock"))  # reuse its vectors
    else:  # never a scratch version in the shared store: the copy is local, embedded again
        err(f"the corpus copy is indexed locally in {index_dir}, not in {settings.store}: every text is embedded again")
    held = replace(settings, source_dir=scratch / "docs", index_dir=index_dir, store="local")
    build_index(held, progress=True, warn=err)
    return Searcher(held, decision=base)


def add_parsers(sub, parents: Parents) -> None:
    cal = sub.add_parser(
        "calibrate", parents=[parents.folders, parents.as_json],
        help='fit when to say "not in the articles" to a corpus, per language',
        description='Fit the similarity thresholds below which an answer is refused ("not in the articles"), '
                    "per language, on questions whose truth is known: an evaluation set with unanswerable "
                    "questions, or one whose articles you hold out (--hold-out N: N articles are left out of a "
                    "copy of the corpus and their questions become unanswerable), or whose articles each lose one paragraph "
                    "(--near-misses: the questions on it whose answer went with it become unanswerable, while "
                    "the article is still about what they ask). The fit refuses as many "
                    "unanswerable questions as it can while wrongly refusing at most --max-refused of the "
                    "answerable ones, and is written to the index folder (decision.json), where ask, serve "
                    "and eval find it. Without one, the default fitted on public corpora is used.")
    cal.add_argument("--set", help="evaluation file (JSONL); with --hold-out or --near-misses, each question's 'doc' "
                                   "names its article")
    cal.add_argument("--hold-out", type=int, default=0, metavar="N",
                     help="leave N articles out (spread over the corpus) and ask their questions as unanswerable")
    cal.add_argument("--near-misses", action="store_true",
                     help="remove one paragraph from each article of a copy of the corpus and ask the questions "
                          "on it whose answer is then written nowhere else as unanswerable: near misses, the "
                          "article still about what they ask (each question's 'doc' names its article)")
    cal.add_argument("--max-refused", type=float, default=0.02, metavar="FRACTION",
                     help="the most answerable questions the fit may refuse, per corpus (default 0.02)")
    cal.add_argument("--out", metavar="FILE", help="where to write the decision (default: INDEX/decision.json)")
    cal.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    cal.add_argument("--signals-out", metavar="FILE", help="also save each question's signals (to fit several corpora together)")
    cal.add_argument("--signals", nargs="+", metavar="FILE",
                     help="fit on saved signals instead, one corpus per file (the default decision: eval/fit_decision.sh)")
    cal.set_defaults(func=cmd_calibrate)
