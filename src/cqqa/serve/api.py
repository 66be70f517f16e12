"""The routes of asked answers: `/api/ask`, a question answered as JSON (compose.answer_json)
in a kept conversation, and `/answer/<id>`, one kept answer read-only.

    /api/ask?q=...                      a new conversation; the reply has its id
    /api/ask?q=...&conversation=ID      a follow-up in conversation ID (its questions are the history)
    /api/ask?q=...&history=...          earlier questions given by the caller (not with conversation=)
    &stream=true                        one JSON line per step (application/x-ndjson): the answer at
                                        once, then again as each quote's translation is checked

The final answer (the reply, or the last line of a stream) adds "conversation", "answer_id" and
"link" (/answer/<answer_id>, the answer read-only).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from starlette.requests import Request

from cqqa.answer.present import answer_json
from cqqa.answer.types import Answer
from cqqa.answer.asking import Turn, UnknownConversation
from cqqa.answer.conversations import Conversations, article_version, changes
from cqqa.errors import QueryError
from cqqa.retrieve.question import checked
from cqqa.serve.render import answer_page_html


def asked(assistant, store: Conversations, question: str, history: list[str],
          conversation: str = "", owner: str | None = None) -> Iterator[dict]:
    """The answer's JSON as it comes, the last one final and kept (under `owner`, the logged-in
    user, when logins are on: then only their own conversations can be continued). Bad input raises
    before the first: QueryError (the question, or history with a conversation), UnknownConversation."""
    turn = Turn(assistant, store, conversation, owner)
    try:
        history = turn.history(history)
    except UnknownConversation as exc:
        raise UnknownConversation(f"{exc} on this server; leave out conversation= to start one") from None
    question = checked(question)
    answer, shown = None, None
    for event in assistant.stream(question, history):
        if not isinstance(event, Answer):  # a generated answer's text as it is written
            continue
        if answer is not None and finished(answer) != shown:  # a step: the answer, then each translation done
            yield answer_json(answer)
            shown = finished(answer)
        answer = event
    conversation, answer_id = turn.keep(answer)
    yield answer_json(answer) | {"conversation": conversation, "answer_id": answer_id, "link": f"/answer/{answer_id}"}


def finished(answer: Answer) -> int:
    return sum(t.status not in ("pending", "writing") for t in answer.translations)


def json_lines(first: dict, rest: Iterator[dict]) -> Iterator[bytes]:
    yield json.dumps(first, ensure_ascii=False).encode() + b"\n"
    for item in rest:
        yield json.dumps(item, ensure_ascii=False).encode() + b"\n"


def add_answer_routes(app, startup, store: Conversations, versions, access=None) -> None:
    """`access` (access.py): with users, a conversation is the logged-in user's (or the token's)."""
    from fastapi import Query
    from fastapi.responses import JSONResponse, StreamingResponse

    from cqqa.serve.guard import text_page

    @app.get("/api/ask")
    def api_ask(request: Request, q: str = "", history: list[str] = Query(default=[]), conversation: str = "",
                stream: bool = False):
        owner = access.owner(request) if access else None
        events = asked(startup.wait(), store, q, history, conversation, owner)
        try:
            first = next(events)  # bad input is refused here, before any answer
        except QueryError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except UnknownConversation as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        if stream:
            return StreamingResponse(json_lines(first, events), media_type="application/x-ndjson")
        for first in events:
            pass
        return JSONResponse(first)

    @app.get("/answer/{answer_id}")
    def shared_answer(answer_id: str):
        kept = store.answer(answer_id)
        if kept is None:
            return text_page("<p>There is no such answer on this server: the link is incomplete, or its "
                                "conversation has been deleted.</p>", 404)
        index = startup.assistant.index if startup.ready else None
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(kept.created))
        return text_page(answer_page_html(kept.answer, when, changes(kept, index),
                                             article_version(kept, index, versions)))
