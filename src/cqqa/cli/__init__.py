"""The `cqqa` command: thin subcommands over the library.

Errors a user can fix print one line, `cqqa: error: ...`, and exit with 1;
usage mistakes exit with 2 (argparse).
"""

from __future__ import annotations

from cqqa.cli.common import Parents  # first: it takes the process start time

import argparse  # noqa: E402
import sys  # noqa: E402

from cqqa.cli import calibrate, evaluation, index, models, query, serve, users  # noqa: E402
from cqqa.config import VERSION  # noqa: E402
from cqqa.errors import CqqaError  # noqa: E402

COMMANDS = (models, index, query, serve, evaluation, calibrate, users)  # each adds its subcommands' parsers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cqqa",
        description="Bilingual question answering over Chinese articles on Chongqing's "
                    "intelligent connected new-energy-vehicle industry.",
        epilog="Settings can also come from environment variables (CQQA_MODEL, CQQA_INDEX_DIR, "
               "CQQA_SOURCE_DIR, CQQA_CHUNK_TOKENS, ...): see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"cqqa {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = Parents.make()
    for command in COMMANDS:
        command.add_parsers(sub, parents)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CqqaError as exc:
        print(f"cqqa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cqqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
