"""One conversation turn, the same for the chat, `/api/ask` and `cqqa ask`: the question is asked
after its conversation's earlier questions (or after a history the caller gives, never both),
answered by the assistant as it comes, and kept in the conversation with the SHA-256 of each
article the answer cites (conversations.documents_of), so that reopening it can say what has
changed since.

    turn = Turn(assistant, store, conversation)      # "" starts a new conversation when kept
    history = turn.history(given)                    # the conversation's questions, or `given`
    for event in assistant.stream(question, history): ...
    turn.keep(answer)                                # filed, as soon as there is an answer
    turn.update(answer)                              # replaced by its finished form (translations)
"""

from __future__ import annotations

from collections.abc import Sequence

from cqqa.answer.types import Answer
from cqqa.answer.conversations import ConversationError, Conversations, documents_of
from cqqa.errors import QueryError


class UnknownConversation(ConversationError):
    pass


class Turn:
    def __init__(self, assistant, store: Conversations, conversation: str = "", owner: str | None = None):
        self.assistant, self.store, self.owner = assistant, store, owner
        self.conversation = conversation  # "" until kept: a new one is started then
        self.answer_id = ""

    def history(self, given: Sequence[str] = ()) -> list[str]:
        """The earlier questions to ask after: the conversation's, or `given` when there is none.
        QueryError for both; UnknownConversation for a conversation that is not kept (deleted,
        or never started)."""
        if not self.conversation:
            return list(given)
        if given:
            raise QueryError("give either a conversation or a history, not both: a kept conversation has its own "
                             "history")
        if not self.store.exists(self.conversation, self.owner):
            raise UnknownConversation(f"no conversation {self.conversation!r} (deleted, or never started)")
        return self.store.questions(self.conversation)

    def keep(self, answer: Answer) -> tuple[str, str]:
        """File the answer in the conversation (a new one, titled by its question, when it has none
        or it was deleted meanwhile), with its articles' hashes; (conversation id, answer id)."""
        self.conversation, self.answer_id = self.store.keep(
            self.conversation, answer, documents_of(answer, self.assistant.store, self.assistant.index), self.owner)
        return self.conversation, self.answer_id

    def update(self, answer: Answer) -> bool:
        """Replace the kept answer by its finished form; False when it is gone (deleted meanwhile)."""
        return self.store.update(self.answer_id, answer)
