"""The chat page (Gradio): questions in, answers streamed, sources beside them, past
conversations kept (answer/conversations.py) and listed for the browser that had them.

Each browser keeps a random key in its localStorage (gr.BrowserState, encrypted with a secret
kept beside the conversations file so that it survives a restart): its conversations are those
filed under a hash of that key, and the one open is reopened after a reload or a restart.
Nothing the client sends is returned to it or used as a path: the chat is rebuilt on the server
from the store (Gradio would treat a file part in returned chat history as a file to serve).
"""

from __future__ import annotations

import hashlib
import html
import os
import time
from pathlib import Path

import gradio as gr

from cqqa.answer.present import readable
from cqqa.answer.types import Answer
from cqqa.answer.asking import Turn
from cqqa.answer.conversations import ConversationError, Conversations, article_version, changes, is_id, new_id
from cqqa.errors import CqqaError, QueryError
from cqqa.retrieve.question import EmptyQuestion, checked, cleaned
from cqqa.serve import feedback
from cqqa.serve.render import sources_html

LOADING = "⏳ Loading the model; your question will be answered as soon as it is ready."


def as_text(text: str) -> str:
    """Chat content shown as text: Gradio's chatbot renders HTML even without markdown, and the
    answer quotes sources that may contain any markup."""
    return html.escape(text, quote=False)


def display_text(answer: Answer) -> str:
    return as_text(readable(answer))


def browser_secret(folder: Path) -> str:
    """The secret the browser's stored key is encrypted with, made once and kept in `folder` (mode
    600): a new one at every start would make every browser forget its conversations."""
    path = folder / "browser-secret"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 16:
            return secret
        raise ConversationError(f"{path} is damaged (too short); delete it (browsers then start new lists)") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(new_id())
    return path.read_text(encoding="ascii").strip()


def owner_of(key: str) -> str | None:
    """Whose conversations a browser's key opens (None: a tab that has not loaded its key)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32] if key else None


def new_session(key: str = "") -> dict:
    """One tab's conversation, kept on the server (a gr.State): the chat as displayed, the user's
    turns, each answer with its kept id (votes and links use it), the conversation's id and the
    browser's key."""
    return {"chat": [], "turns": [], "records": [], "conversation": "", "key": key}


def with_key(session: dict, browser) -> dict:
    """The session with the browser's key: a handler that ran before the page's load event had
    set it (a click in the first moments) takes it from what the browser keeps, or makes it."""
    if session.get("key"):
        return session
    key = browser.get("key", "") if isinstance(browser, dict) else ""
    return session | {"key": key if is_id(key) else new_id()}


def browser_value(session: dict) -> dict:
    """What the browser keeps (gr.BrowserState): its key and the conversation open in it."""
    return {"key": session["key"], "conversation": session["conversation"]}


def reopened(store: Conversations, conversation: str, key: str, index, versions) -> dict:
    """A kept conversation as a session: its answers as they were, with what has changed since."""
    session = new_session(key) | {"conversation": conversation}
    for kept in store.answers(conversation):
        answer = kept.answer
        session["chat"] += [{"role": "user", "content": as_text(answer.question)},
                            {"role": "assistant", "content": display_text(answer)}]
        session["records"].append({"message": len(session["chat"]) - 1, "answer": answer, "id": kept.id,
                                   "history": list(session["turns"]), "notes": changes(kept, index),
                                   "version": article_version(kept, index, versions)})
        session["turns"].append(answer.question)
    return session


def panel(record: dict | None) -> str:
    if record is None:
        return sources_html(None)
    return sources_html(record["answer"], link=f"answer/{record['id']}", notes=record.get("notes", ()),
                        version=record.get("version"))


class Chat:
    """The page's handlers, around the assistant (Startup), the conversations and the votes file."""

    def __init__(self, startup, store: Conversations, feedback_path: Path, versions, access=None,
                 uploads: bool = False):
        self.startup, self.store, self.feedback_path, self.versions = startup, store, feedback_path, versions
        self.access = access  # serve/access.py: with users, conversations belong to the logged-in user
        self.uploads = uploads  # articles can be added on this server (/add): the link is offered

    def logins(self) -> bool:
        """Whether users must log in (a user exists)."""
        return bool(self.access and self.access.on())

    def owner(self, session: dict, request=None) -> str | None:
        """Whose conversations this tab sees: the logged-in user's (from any browser), else this
        browser's (its key)."""
        return (self.access.owner(request) if self.access else None) or owner_of(session["key"])

    def _index(self):
        return self.startup.assistant.index if self.startup.ready else None

    def listing(self, session: dict, request=None) -> dict:
        """The user's (or browser's) past conversations, most recent first, the open one selected."""
        owner = self.owner(session, request)
        kept = self.store.listing(owner) if owner else []
        choices = [(f"{s.title[:60]} · {time.strftime('%Y-%m-%d %H:%M', time.localtime(s.updated))} · "
                    f"{s.answers} answer{'s' * (s.answers != 1)}", s.id) for s in kept]
        return gr.update(choices=choices, value=session["conversation"] or None)

    def restore(self, browser, session: dict | None = None, request: gr.Request = None):
        """On page load: this browser's key (a new one the first time) and its open conversation;
        (chat, sources, session, browser, past)."""
        browser = browser if isinstance(browser, dict) else {}
        session = with_key(session or new_session(), browser)
        key = browser["key"] if is_id(browser.get("key", "")) else session["key"]
        conversation = browser.get("conversation", "") or session["conversation"]
        if not self.store.exists(conversation, self.owner(new_session(key), request)):
            conversation = ""
        return self._open(conversation, key, request)

    def _open(self, conversation: str, key: str, request=None):
        session = (reopened(self.store, conversation, key, self._index(), self.versions) if conversation
                   else new_session(key))
        last = session["records"][-1] if session["records"] else None
        return session["chat"], panel(last), session, browser_value(session), self.listing(session, request)

    def open(self, conversation, session: dict, browser=None, request: gr.Request = None):
        """A past conversation chosen in the list."""
        session = with_key(session, browser)
        if not (isinstance(conversation, str) and self.store.exists(conversation, self.owner(session, request))):
            return (gr.skip(),) * 5
        return self._open(conversation, session["key"], request)

    def turn(self, message, session: dict, browser=None, request: gr.Request = None):
        """One question: shown, answered as it comes (quotes at once, translations as they are
        checked), kept; yields (chat, textbox, sources, session, browser, past). The box is emptied
        once, when the question is taken: what the user types meanwhile is asked next."""
        skip, session = gr.skip(), with_key(session, browser)
        try:
            message, problem = checked(message), None
        except EmptyQuestion:
            yield skip, "", skip, session, skip, skip
            return
        except QueryError as exc:  # too long: said in the chat, below the question
            message, problem = cleaned(message), exc
        chat = session["chat"] + [{"role": "user", "content": as_text(message)},
                                  {"role": "assistant", "content": "…"}]
        yield chat, "", skip, session, skip, skip
        answer = record = None
        try:
            if problem:
                raise problem
            if not self.startup.ready:
                chat[-1] = {"role": "assistant", "content": LOADING}
                yield chat, skip, skip, session, skip, skip
            assistant = self.startup.wait()
            turn = Turn(assistant, self.store, session["conversation"], self.owner(session, request))
            for event in assistant.stream(message, session["turns"]):
                if isinstance(event, str):  # a generated answer as it is written
                    chat[-1] = {"role": "assistant", "content": as_text(event)}
                    yield chat, skip, skip, session, skip, skip
                    continue
                answer = event  # the answer, then again as its quotes are translated
                chat[-1] = {"role": "assistant", "content": display_text(answer)}
                if record is None:  # kept at once: a reload while it is translated keeps the question
                    session, record = self.keep(session, chat, answer, turn)
                    yield chat, skip, panel(record), session, browser_value(session), self.listing(session, request)
                else:
                    yield chat, skip, skip, session, skip, skip
        except CqqaError as exc:
            chat[-1] = {"role": "assistant", "content": as_text(f"⚠ {exc}")}
            yield chat, skip, skip, {**session, "chat": chat}, skip, skip
            return
        record["answer"] = answer
        turn.update(answer)
        yield chat, skip, panel(record), session, skip, skip

    def keep(self, session: dict, chat: list, answer: Answer, turn: Turn) -> tuple[dict, dict]:
        """The answer filed in the tab's conversation (started now if it has none, or again if it
        was deleted meanwhile); the new session and the answer's record."""
        conversation, answer_id = turn.keep(answer)
        record = {"message": len(chat) - 1, "answer": answer, "history": list(session["turns"]), "id": answer_id}
        return ({"chat": chat, "turns": session["turns"] + [answer.question], "records": session["records"] + [record],
                 "conversation": conversation, "key": session["key"]}, record)

    def record_for(self, session: dict, index) -> dict | None:
        index = index[0] if isinstance(index, (list, tuple)) and index else index
        return next((r for r in session["records"] if r["message"] == index), None) if isinstance(index, int) else None

    def like(self, session: dict, data: gr.LikeData):
        found = self.record_for(session, data.index)
        if found:
            feedback.record(self.feedback_path, found["answer"], data.liked is True, found["history"], found["id"])

    def select(self, session: dict, data: gr.SelectData):
        found = self.record_for(session, data.index)
        return panel(found) if found else gr.skip()

    def new(self, session: dict, browser=None, request: gr.Request = None):
        """An empty chat (the open conversation stays kept); (chat, box, sources, session, browser, past)."""
        session = new_session(with_key(session, browser)["key"])
        return [], "", sources_html(None), session, browser_value(session), self.listing(session, request)

    def delete(self, session: dict, browser=None, request: gr.Request = None):
        """The open conversation deleted from the store, then an empty chat."""
        session = with_key(session, browser)
        owner = self.owner(session, request)
        if session["conversation"] and owner:
            self.store.delete(session["conversation"], owner)
        return self.new(session, request=request)

    def account(self, request: gr.Request = None):
        """The line under the chat: who is logged in, a link to log out, and the link to add an
        article for those who may; (account, and the add-article link when adding is on)."""
        user = self.access.who(request) if self.access else None
        link = [gr.update(visible=user is None or user.may("editor"))] if self.uploads else []
        if user is None:
            return gr.update(value="", visible=False), *link
        said = (f'<span id="cqqa-user">Logged in as <b>{html.escape(user.name)}</b> ({user.role})</span> · '
                '<a id="cqqa-password" href="password" target="_blank" rel="noopener">Change password</a> · '
                '<a id="cqqa-logout" href="logout">Log out</a>')
        return gr.update(value=said, visible=True), *link

