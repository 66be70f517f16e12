"""`cqqa search` and `cqqa ask`: the passages, and the answer, for one question."""

from __future__ import annotations

import dataclasses

from cqqa.cli.common import Parents, err, print_json, settings_from, warn_if_stale
from cqqa.config import MODES
from cqqa.errors import CqqaError


def cmd_search(args) -> int:
    from cqqa.config import RetrievalSettings
    from cqqa.retrieve.question import checked
    from cqqa.retrieve.search import Searcher

    question = checked(args.query)  # once, here: fail fast, before loading the model
    settings = settings_from(args)
    warn_if_stale(settings)
    searcher = Searcher(settings, retrieval=RetrievalSettings(mode=args.mode))
    retrieval = searcher.retrieve(question, k=args.k)
    hits, plan = retrieval.hits, retrieval.plan
    if args.json:
        fields = ["rank", "chunk_id", "doc", "title", "text", "start", "end", "page", "score"]
        if args.explain:
            fields += ["dense_rank", "lexical_rank", "dense_score", "lexical_score", "best_sentence",
                       "best_sentence_score"]
        data = {"query": args.query, "answerable": retrieval.answerable,
                "hits": [{f: getattr(h, f) for f in fields} for h in hits]}
        if args.explain:
            data["plan"] = dataclasses.asdict(plan)
            data["absent_terms"] = retrieval.absent_terms
            data["roles"] = retrieval.roles
            data["decision"] = searcher.decision.explain(retrieval.signals) if retrieval.signals else None
        print_json(data)
        return 0
    if not retrieval.answerable:
        print("Probably not in the articles: nothing retrieved really answers this. The closest passages:\n")
    if args.explain:
        print(f"mode {args.mode}; names bridged: {', '.join(plan.names) or 'none'}; lexical tokens: "
              f"{' '.join(plan.tokens) or 'none'}; lexical coverage {plan.coverage:.2f}; "
              f"terms the articles never use: {' '.join(retrieval.absent_terms) or 'none'}"
              + "".join(f"\nwho is: the title is given in “{sentence}” (its passage ranks first)"
                        for sentence in retrieval.roles)
              + (f"\ndecision: {searcher.decision.explain(retrieval.signals)}" if retrieval.signals else "") + "\n")
    for hit in hits:
        print(f"[{hit.rank}] {hit.score:.3f}  {hit.title}  ({hit.doc}, {f'p. {hit.page}, ' if hit.page else ''}chars {hit.start}-{hit.end})")
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


def cmd_ask(args) -> int:
    from cqqa.answer.assistant import Assistant
    from cqqa.answer.present import answer_json, readable
    from cqqa.retrieve.question import checked

    question = checked(args.question)  # once, here: fail fast, before loading the model
    settings = settings_from(args)
    store, history = conversation_of(args, settings)
    warn_if_stale(settings)
    assistant = Assistant(settings, reader=False if args.no_reader else None, warn=lambda m: err(f"warning: {m}"))
    answer = assistant.ask(question, history)
    kept = {}
    if store is not None:
        from cqqa.answer.asking import Turn

        conversation, answer_id = Turn(assistant, store, _conversation_id(args)).keep(answer)
        kept = {"conversation": conversation, "answer_id": answer_id}
    if args.json:
        print_json(answer_json(answer) | kept)
        return 0
    print(readable(answer))
    items = answer.citations or answer.related
    if items:
        print("\nSources:" if answer.citations else "\nClosest passages, which do not say it (not citations):")
    for c in items:
        label = f"[{c.n}]" if answer.citations else " -"
        print(f"{label} {c.title} ({c.chunk_id}, {f'p. {c.page}, ' if c.page else ''}chars {c.start}-{c.end})")
        print("    " + c.text.replace("\n\n", "\n    "))
    if kept:
        print(f"\nConversation {kept['conversation']} (continue it: cqqa ask QUESTION --conversation "
              f"{kept['conversation']}); this answer: /answer/{kept['answer_id']} on cqqa serve")
    return 0


def _conversation_id(args) -> str:
    return "" if args.conversation == "new" else args.conversation


def conversation_of(args, settings):
    """The kept conversations and the history to ask with: --conversation ID's questions, or --history
    (answer/asking.Turn.history: the same rules as /api/ask)."""
    if not args.conversation:
        return None, args.history or []
    from cqqa.answer.asking import Turn, UnknownConversation
    from cqqa.answer.conversations import Conversations

    store = Conversations(settings.conversations_file, settings.conversations_max)
    try:
        return store, Turn(None, store, _conversation_id(args)).history(args.history or [])
    except UnknownConversation as exc:
        raise CqqaError(f"{exc} in {settings.conversations_file}; --conversation new starts one") from None


def add_parsers(sub, parents: Parents) -> None:
    folders, as_json = parents.folders, parents.as_json
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
    ask = sub.add_parser("ask", parents=[folders, as_json], help="answer a question with citations, in the terminal",
                         description="The chat's pipeline from the terminal: retrieve, decide whether the "
                                     "articles answer, quote the best sentences with [n] citations.")
    ask.add_argument("question", help="the question, in English, Simplified or Traditional Chinese")
    ask.add_argument("--history", nargs="*", metavar="TURN",
                     help="earlier questions of the conversation, oldest first (for follow-ups)")
    ask.add_argument("--conversation", metavar="ID",
                     help="continue kept conversation ID (its questions are the history) and keep this answer in "
                          "it; `new` starts one. The chat and /api/ask keep theirs in the same file "
                          "(CQQA_CONVERSATIONS_FILE)")
    ask.add_argument("--no-reader", action="store_true",
                     help="no translation of the quotes (faster; the bundled reader is used when fetched)")
    ask.set_defaults(func=cmd_ask)
