"""The question-answering pipeline behind the web chat and `cqqa ask`.

One question (with the user's earlier turns) in, an Answer with numbered
citations out:

1. make the question self-contained: with a language model configured, by a
   rewrite prompt; otherwise (and if that fails) Searcher carries the earlier
   turns' names into the query (followup.py), the same path `cqqa eval` scores;
2. retrieve passages and decide whether they answer (one Retrieval, search.py);
3. compose: extractive by default (answer.py); with a language model, a
   generated answer streamed token by token, its citations checked, falling
   back to the extractive answer on any failure.

Between requests the assistant checks the index's CURRENT pointer and swaps to
a newer version (built by `cqqa index` or `cqqa watch`) without a restart; a
request in flight finishes on the version it started with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace

from cqqa.answer import Answer, citation_from_hit, compose_extractive
from cqqa.config import LLMSettings, Settings
from cqqa.errors import CqqaError, LLMError
from cqqa.index import load_index
from cqqa.llm import ChatClient, answer_messages, clean_citations, rewrite_messages
from cqqa.search import Searcher, check_query
from cqqa.store import current_version
from cqqa.textnorm import without_lone_surrogates

PASSAGES_FOR_MODEL = 5


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder=None, llm: LLMSettings | None = None,
                 k: int = 5, warn=lambda message: None):
        self.settings = settings or Settings.from_env()
        self.k = k
        self.warn = warn
        self._lock = threading.Lock()  # one retrieval at a time: the model and its query cache are shared
        self.searcher = Searcher(self.settings, embedder=embedder)
        self.embedder = self.searcher.embedder
        llm = llm if llm is not None else LLMSettings.from_env()
        self.llm = ChatClient(llm) if llm.enabled else None

    @property
    def index_version(self) -> str:
        return self.searcher.index.version

    def refresh(self) -> bool:
        """Swap to the index's current version if a build replaced it; True if swapped."""
        latest = current_version(self.settings.index_dir)
        if latest is None or latest.name == self.searcher.index.version:
            return False
        try:
            searcher = Searcher(self.settings, embedder=self.embedder, index=load_index(self.settings.index_dir))
        except CqqaError as exc:  # keep answering from the version we have
            self.warn(f"could not load the new index version {latest.name}: {exc}")
            return False
        self.searcher = searcher
        return True

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        answer = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                answer = event
        return answer

    def stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Yields the answer text so far (str) while a language model writes, then the final Answer."""
        question = check_query(question)
        history = [turn for turn in map(without_lone_surrogates, history) if turn.strip()]
        self.refresh()
        searcher = self.searcher
        notice = ""
        query, carried = question, history
        if self.llm and history:
            try:
                rewritten = self.llm.complete(rewrite_messages(question, history)).strip().strip('"“”')
                if rewritten:
                    query, carried = check_query(rewritten.splitlines()[0]), []
            except (LLMError, CqqaError) as exc:
                notice = f"Follow-up rewrite failed ({exc}); used the conversation's names instead."
        with self._lock:
            retrieval = searcher.retrieve(query, self.k, carried)
        extractive = replace(compose_extractive(question, retrieval), notice=notice)
        if self.llm is None or not extractive.answerable:
            yield extractive
            return
        passages = [citation_from_hit(hit, i + 1, [hit.best_sentence] if hit.best_sentence else [])
                    for i, hit in enumerate(retrieval.hits[:PASSAGES_FOR_MODEL])]
        text = ""
        try:
            for piece in self.llm.stream(answer_messages(question, extractive.lang, passages)):
                text += piece
                yield text
        except LLMError as exc:
            yield replace(extractive, notice=f"{exc}. Showing the passages' own words instead.")
            return
        cleaned, cited = clean_citations(text, {p.n for p in passages})
        if not cited:
            yield replace(extractive, notice="The language model's answer cited no passage, so it is not shown; "
                                             "showing the passages' own words instead.")
            return
        yield replace(extractive, answer=cleaned, citations=[passages[n - 1] for n in sorted(cited)],
                      composer="generative")
