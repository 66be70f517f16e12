"""`cqqa serve`: the web chat, listening before anything heavy is imported."""

from __future__ import annotations

import time
from pathlib import Path

from cqqa.cli.common import PROCESS_STARTED, Parents, bring_index_up_to_date, err, settings_from
from cqqa.errors import CqqaError


def _listen(host: str, port: int):
    """The server's socket, bound and listening before anything heavy is imported: from here on
    connections wait in the kernel's backlog instead of being refused."""
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    # As uvicorn binds: a stopped server's connections in TIME-WAIT do not make the port busy.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CqqaError(f"cannot listen on {host}:{port} ({exc.strerror}); is another cqqa serve running? "
                        "Pass another --port") from None
    sock.listen(2048)
    return sock


def refuse_open_access(host: str, settings, no_auth: bool) -> None:
    """Bound where other machines reach it, with no users, the server would let anyone ask and read
    every conversation link: refused, with the command that creates the first admin, unless the
    operator says --no-auth."""
    from cqqa.serve.guard import LOOPBACK_NAMES
    from cqqa.serve.users import Users

    if host in LOOPBACK_NAMES or no_auth:
        return
    if settings.users_file.exists() and Users(settings.users_file).exist():
        return
    raise CqqaError(f"refusing to listen on {host} with no users: anyone who can reach it could use it. Create the "
                    f"first admin with `cqqa users add NAME --role admin` (users go to {settings.users_file}; "
                    "CQQA_USERS_FILE), then start it again; or pass --no-auth to serve everyone on purpose")


def serve_settings(args):
    """The settings with the command line's, once the start is allowed (refuse_open_access)."""
    import dataclasses

    settings = settings_from(args)
    settings = dataclasses.replace(settings, allow_uploads=settings.allow_uploads or args.allow_uploads,
                                   behind_https=settings.behind_https or args.behind_https)
    refuse_open_access(args.host, settings, args.no_auth)
    return settings


def cmd_serve(args) -> int:
    import threading

    from cqqa.serve.loading import LoadingResponder

    settings = serve_settings(args)
    sock = _listen(args.host, args.port)
    allowed = tuple(args.allow_host or ()) + settings.allowed_hosts
    early = LoadingResponder(sock, args.host, allowed).start()  # a "starting" page until the chat listens
    started = PROCESS_STARTED
    url = f"http://{args.host}:{args.port}/"
    err(f"cqqa: accepting connections at {url} ({time.monotonic() - started:.1f} s); starting ...")

    from cqqa.serve.web import Startup, serve

    listening = threading.Event()

    def load():
        from cqqa.answer.assistant import Assistant
        from cqqa.index.stores import open_store
        from cqqa.index.watch import SharedEmbedder, describe, start_watching

        shared = SharedEmbedder(settings)
        if settings.store == "local" or args.watch or open_store(settings).current() is None:
            bring_index_up_to_date(settings, shared)  # a replica of a shared store serves what is there
        startup.state = "starting the reader (translations of English answers)"
        assistant = Assistant(settings, embedder=shared(), reader=False if args.no_reader else None,
                              warn=lambda m: err(f"warning: {m}"))
        if assistant.llm:
            err(f"generative answers from {assistant.llm.settings.base_url} "
                 f"({assistant.llm.settings.model or 'default'})")
        from cqqa.retrieve.absent_terms import english_to_chinese

        english_to_chinese()  # CC-CEDICT (~1.7 s) read now, not on the first English question
        err(f"translations of English answers by {assistant.reader_name}" if assistant.reader else
             "no reader: English questions get the quotes in Chinese (run `cqqa models fetch --only reader`)")
        if args.watch:
            start_watching(settings, embedder_factory=shared, warn=lambda m: err(f"warning: {m}"),
                           on_report=lambda report: err(describe(report)))
            err(f"watching {settings.source_dir} for changes")
        listening.wait()
        err(f"cqqa is ready at {url} (index {assistant.index_version}, {time.monotonic() - started:.1f} s to "
             "start); Ctrl-C stops it")
        return assistant

    def listening_now(_url: str) -> None:
        early.stop()
        listening.set()
        err(f"cqqa is listening at {url} ({time.monotonic() - started:.1f} s); loading the embedding model ...")

    startup = Startup(load).start()
    serve(startup, settings, sock, Path(args.feedback) if args.feedback else None,
          on_listening=listening_now, allowed_hosts=allowed)
    if startup.error is not None:
        raise startup.error  # the server has stopped; a CqqaError prints one line and exits 1
    return 0


def add_parsers(sub, parents: Parents) -> None:
    folders = parents.folders
    serve = sub.add_parser("serve", parents=[folders], help="run the web chat",
                           description="Start the chat on http://HOST:PORT/. Loads the model and index once; "
                                       "builds the index first if it is missing or stale. Answers quote the "
                                       "articles with numbered citations; an English question's quotes are "
                                       "then translated by the bundled reader (or the OpenAI-compatible "
                                       "server at CQQA_LLM_BASE_URL) and checked against the source. A new index version "
                                       "(from `cqqa index` or --watch) is picked up between requests.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--allow-host", action="append", metavar="NAME",
                       help="also answer requests for this host name (repeatable; also CQQA_ALLOWED_HOSTS, "
                            "comma-separated). Requests naming any other host are refused, so a web page "
                            "cannot reach the server by DNS rebinding; localhost, 127.0.0.1 and ::1 always work")
    serve.add_argument("--watch", action="store_true", help="also rebuild the index when the articles change")
    serve.add_argument("--allow-uploads", action="store_true",
                       help="let users add articles from the chat (/add) although the server listens on an address "
                            "other machines reach; on loopback (the default) it is on anyway. Also "
                            "CQQA_ALLOW_UPLOADS=1; files go to CQQA_UPLOADS_DIR (default: the source folder)")
    serve.add_argument("--no-auth", action="store_true",
                       help="serve everyone who can reach it without a login, although bound to an address other "
                            "machines reach and no user exists (without it, that start is refused; see `cqqa users`)")
    serve.add_argument("--behind-https", action="store_true",
                       help="a TLS proxy serves this server over HTTPS: session cookies are marked Secure (also "
                            "CQQA_BEHIND_HTTPS=1; the scheme a proxy forwards from --forwarded-allow-ips counts too)")
    serve.add_argument("--no-reader", action="store_true",
                       help="do not start the bundled reader (English answers then quote the Chinese only)")
    serve.add_argument("--feedback", metavar="FILE",
                       help="where 👍/👎 votes are appended (default feedback/feedback.jsonl or $CQQA_FEEDBACK_FILE)")
    serve.set_defaults(func=cmd_serve)
