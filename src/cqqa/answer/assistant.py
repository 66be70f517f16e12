"""The question-answering pipeline behind the web chat and `cqqa ask`.

One question (with the user's earlier turns) in, an Answer with numbered
citations out:

1. make the question self-contained: with a language model configured, by a
   rewrite prompt; otherwise (and if that fails) Searcher carries the earlier
   turns' names into the query (followup.py), the same path `cqqa eval` scores;
2. retrieve passages and decide whether they answer (one Retrieval, search.py); where the
   scores leave that unsure, the reader judges it (retrieve/judge.py), outside the lock;
3. compose: the extractive answer at once (answer.py); then, for an English question, each
   quote translated by the reader (reader.py: the bundled llama.cpp model, or any
   OpenAI-compatible server), streamed, and checked by code before it shows as checked.
   With CQQA_LLM_MODE=generate, a generated answer instead, streamed token by token; then the
   project attaches its citations itself (grounding.py: each sentence matched to the passages'
   sentences, numbers and names checked; the model's own markers are ignored), leaves out what
   no passage supports, and falls back to the extractive answer on any failure.

Between requests the assistant checks the index's CURRENT pointer and swaps to
a newer version (built by `cqqa index` or `cqqa watch`) without a restart; a
request in flight finishes on the version it started with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace

from cqqa.answer.compose import compose_extractive
from cqqa.answer.types import Answer, citation_from_hit, quotes_of
from cqqa.config import LLMSettings, Settings
from cqqa.errors import CqqaError, LLMError
from cqqa.answer.grounding import answer_messages, ground
from cqqa.models.llm import ChatClient
from cqqa.retrieve.followup import rewrite_messages, rewritten_query
from cqqa.answer.reader import Reader, subject_names
from cqqa.answer.readers import ReaderSource
from cqqa.retrieve.question import checked
from cqqa.retrieve.search import Searcher
from cqqa.index.stores import open_store
from cqqa.textnorm import without_lone_surrogates

PASSAGES_FOR_MODEL = 5


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder=None, llm: LLMSettings | None = None,
                 reader: bool | None = None, k: int = 5, warn=lambda message: None):
        """`llm`: an external server (default: settings.llm, from CQQA_LLM_*). `reader`: None starts
        the bundled reader when no server is set and it is fetched (CQQA_READER=0 turns it off);
        True requires it; False: no reader (readers.ReaderSource.open)."""
        self.settings = settings or Settings.from_env()
        self.k = k
        self.warn = warn
        self._lock = threading.Lock()  # one retrieval at a time: the model and its query cache are shared
        self.store = open_store(self.settings)  # where the index versions live (index/stores/)
        self.searcher = Searcher(self.settings, embedder=embedder, index=self.store.load())
        self.embedder = self.searcher.embedder
        llm = llm if llm is not None else self.settings.llm
        self.llm = ChatClient(llm) if llm.enabled and llm.mode == "generate" else None
        # the bundled server, when started here, lives as long as the assistant
        self._readers = ReaderSource.open(llm, self.settings.reader, reader)
        self.reader_name = self._readers.name
        self.reader = self._readers.reader(self.searcher.index.names)
        self.searcher.judge = self._readers.judge(warn)

    @property
    def index(self):
        """The index version this assistant answers from (index/version.Index)."""
        return self.searcher.index

    @property
    def index_version(self) -> str:
        return self.searcher.index.version

    def refresh(self) -> bool:
        """Swap to the index's current version if a build replaced it; True if swapped."""
        try:
            latest = self.store.current()
        except CqqaError as exc:  # the store is unreachable for now: keep answering from the version we have
            self.warn(f"could not check for a new index version: {exc}")
            return False
        if latest is None or latest == self.searcher.index.version:
            return False
        try:
            searcher = Searcher(self.settings, embedder=self.embedder, index=self.store.load(latest),
                                judge=self.searcher.judge)
        except CqqaError as exc:  # keep answering from the version we have
            self.warn(f"could not load the new index version {latest}: {exc}")
            return False
        self.searcher = searcher
        self.reader = self._readers.reader(searcher.index.names)  # the new version's names
        return True

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        answer = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                answer = event
        return answer

    def stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Yields Answers, each more complete (the extractive answer, then its translations as they
        are written), the last one final; in generate mode, the text so far (str) while the model
        writes, then the final Answer."""
        question = checked(question)
        history = [turn for turn in map(without_lone_surrogates, history) if turn.strip()]
        self.refresh()
        searcher = self.searcher
        notice = ""
        query, carried = question, history
        if self.llm and history:
            try:
                rewritten = rewritten_query(self.llm.complete(rewrite_messages(question, history)))
                if rewritten:
                    query, carried = checked(rewritten), []
            except (LLMError, CqqaError) as exc:
                notice = f"Follow-up rewrite failed ({exc}); used the conversation's names instead."
        with self._lock:
            retrieval = searcher.retrieve(query, self.k, carried, judge=False)
        retrieval = searcher.judged(retrieval)  # the reader, if asked, does not hold up other askers
        extractive = replace(compose_extractive(question, retrieval), notice=notice)
        reader = self.reader
        if reader is not None and self.llm is None and extractive.answerable and extractive.lang == "en":
            yield from self._translated(extractive, reader)
            return
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
        with self._lock:  # the embedding model is shared
            grounded = ground(text, passages, retrieval.index, self.embedder, subject_names(retrieval.index.names))
        kept = [g for g in grounded if g.kept]
        if not kept:
            yield replace(extractive, notice="No sentence of the language model's answer is supported by the passages, "
                                             "so it is not shown; showing the passages' own words instead.")
            return
        cited = sorted({g.n for g in kept})
        citations = [replace(passages[n - 1], quotes=[g.source for g in kept if g.n == n]) for n in cited]
        left_out = [g for g in grounded if not g.kept]
        reasons = "; ".join(f"“{g.text[:60]}” ({'no passage supports it' if g.n is None else '; '.join(g.checks.problems)})"
                            for g in left_out)
        notice = f"Left out of the generated answer: {reasons}." if left_out else notice
        yield replace(extractive, answer=" ".join(f"{g.text} [{g.n}]" for g in kept), citations=citations,
                      composer="generative", notice=notice)

    @staticmethod
    def _translated(answer: Answer, reader: Reader) -> Iterator[Answer]:
        """The extractive answer at once, then again as each quote's translation is written and checked."""
        answer = replace(answer, reader=reader.name)
        for translations in reader.translate_all(quotes_of(answer)):
            yield replace(answer, translations=translations)
