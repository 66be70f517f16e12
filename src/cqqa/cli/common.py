"""What the subcommands share: the process start time (taken before any heavy import), settings
from the folders given, one-line messages on stderr, JSON on stdout, and the parent parsers of
the options several subcommands take."""

from __future__ import annotations

import time

PROCESS_STARTED = time.monotonic()  # before the heavy imports: start-up times count from here

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from cqqa.config import Settings  # noqa: E402
from cqqa.ingest.formats import SUFFIXES  # noqa: E402


def settings_from(args) -> Settings:
    settings = Settings.from_env()
    changes = {}
    if getattr(args, "source", None):
        changes["source_dir"] = Path(args.source)
    if getattr(args, "index", None):
        changes["index_dir"] = Path(args.index)
    if getattr(args, "store", None):
        changes["store"] = args.store
    return dataclasses.replace(settings, **changes) if changes else settings


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def warn_if_stale(settings: Settings) -> None:
    from cqqa.index.staleness import stale_warning

    if message := stale_warning(settings):
        err(f"warning: {message}")


def bring_index_up_to_date(settings: Settings, embedder_factory=None) -> None:
    """Build the index if it is missing or stale (a no-op when it is not), with progress on stderr."""
    from cqqa.index.build import build_index

    report = build_index(settings, embedder_factory=embedder_factory, progress=True,
                         warn=lambda m: err(f"warning: {m}"))
    if not report.up_to_date:
        from cqqa.index.stores import open_store

        err(f"built the index for {settings.source_dir} in {open_store(settings).where}: {report.docs} documents, "
             f"{report.chunks} chunks ({report.seconds:.0f} s)")


@dataclass(frozen=True)
class Parents:
    """Options several subcommands share, declared once."""

    folders: argparse.ArgumentParser
    source_only: argparse.ArgumentParser
    as_json: argparse.ArgumentParser

    @classmethod
    def make(cls) -> "Parents":
        folders = argparse.ArgumentParser(add_help=False)
        folders.add_argument("--source", metavar="DIR",
                             help=f"folder of articles: {' '.join(SUFFIXES)} (default: docs_src or $CQQA_SOURCE_DIR)")
        folders.add_argument("--index", metavar="DIR", help="index folder (default: index or $CQQA_INDEX_DIR); "
                                                             "eval and ablate need it with --source")
        folders.add_argument("--store", choices=("local", "milvus"),
                             help="where the index lives: local (FAISS and files in the index folder, the default) "
                                  "or milvus ($CQQA_MILVUS_URI: a Milvus Lite file, default <index>/milvus.db, "
                                  "or http://host:19530); default $CQQA_STORE or local")
        source_only = argparse.ArgumentParser(add_help=False)
        source_only.add_argument("--source", metavar="DIR",
                                 help=f"folder of articles: {' '.join(SUFFIXES)} (default: docs_src or $CQQA_SOURCE_DIR)")
        as_json = argparse.ArgumentParser(add_help=False)
        as_json.add_argument("--json", action="store_true", help="print JSON (the shape is in README.md, *Commands*)")
        return cls(folders, source_only, as_json)
