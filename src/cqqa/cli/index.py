"""`cqqa index` and `cqqa watch`: build the index, keep it current."""

from __future__ import annotations

import json

from cqqa.cli.common import Parents, err, print_json, settings_from


def cmd_index(args) -> int:
    from cqqa.index.build import build_index

    from cqqa.index.stores import open_store

    settings = settings_from(args)
    store = open_store(settings)
    where = store.where
    if args.restore:
        before = store.current()
        version = store.restore(None if args.restore is True else args.restore)
        print(f"{where} now serves version {version} (was {before}); the next `cqqa index` rebuilds from the sources")
        return 0
    report = build_index(settings, progress=True, warn=lambda m: err(f"warning: {m}"),  # bar on stderr
                         force=args.force)
    if args.json:
        keys = ("docs", "chunks", "added", "changed", "removed", "renamed", "unchanged", "embedded_chunks",
                "embedded_sentences", "up_to_date")
        print_json({k: v for k, v in report.to_dict().items() if k in keys} | {"seconds": round(report.seconds, 2)})
    elif report.up_to_date:
        print(f"index in {where} is up to date: {report.docs} documents, {report.chunks} chunks")
    else:
        print(f"indexed {report.docs} documents into {report.chunks} chunks "
              f"({report.embedded_chunks} chunks and {report.embedded_sentences} sentences embedded) "
              f"in {report.seconds:.1f} s -> {where}")
    return 0


def cmd_watch(args) -> int:
    from cqqa.index.build import build_index
    from cqqa.index.watch import SharedEmbedder, describe, watch

    settings = settings_from(args)
    shared = SharedEmbedder(settings)
    warn = lambda m: err(f"warning: {m}")  # noqa: E731
    err(describe(build_index(settings, embedder_factory=shared, progress=True, warn=warn)))
    err(f"watching {settings.source_dir} for changes (Ctrl-C stops)")
    watch(settings, embedder_factory=shared, warn=warn, progress=True, debounce_ms=args.debounce,
          on_report=lambda report: print(json.dumps(report.to_dict(), ensure_ascii=False), flush=True)
          if args.json else err(describe(report)))
    return 0


def add_parsers(sub, parents: Parents) -> None:
    folders, as_json = parents.folders, parents.as_json
    index = sub.add_parser("index", parents=[folders, as_json], help="build or update the index from the source articles",
                           description="Clean, chunk and embed the articles in the source folder and write a "
                                       "FAISS index with a manifest (or Milvus collections, --store milvus). "
                                       "Unchanged chunks reuse their vectors; "
                                       "with nothing changed, nothing is written. The previous index stays "
                                       "in use until the new one is complete.")
    index.add_argument("--force", action="store_true",
                       help="rebuild from scratch, re-embedding everything (a damaged index is rebuilt without "
                            "it: every build checks the current version's files against their checksums)")
    index.add_argument("--restore", nargs="?", const=True, metavar="VERSION",
                       help="serve a kept earlier version again instead of building (by default the one before "
                            "the current; two are kept); running servers pick it up before their next question")
    index.set_defaults(func=cmd_index)
    watch = sub.add_parser("watch", parents=[folders, as_json], help="rebuild the index whenever the articles change",
                           description="Bring the index up to date, then rebuild incrementally after every "
                                       "burst of changes in the source folder (debounced). A running "
                                       "`cqqa serve` picks each new version up without a restart.")
    watch.add_argument("--debounce", type=int, default=800, metavar="MS",
                       help="wait for this many quiet milliseconds before rebuilding (default 800)")
    watch.set_defaults(func=cmd_watch)
