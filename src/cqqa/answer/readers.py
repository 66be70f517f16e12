"""The one place a reader is made: which one translates (an external server, the bundled one,
or none), reached by which client, with whose turns. Used by the assistant, `cqqa eval
--answers --reader`, eval/bench_reader.py and eval/judge_band.py, so each measures the reader
the chat runs.

    source = ReaderSource.open(settings.llm, settings.reader)     # starts the bundled server if chosen
    reader = source.reader(index.names)                            # None: no reader
"""

from __future__ import annotations

from dataclasses import dataclass

from cqqa.answer.reader import NO_CHINESE_GRAMMAR, Reader
from cqqa.answer.turns import Turns
from cqqa.config import LLMSettings, ReaderSettings
from cqqa.index.names import NameBridge
from cqqa.models import local_reader
from cqqa.models.llm import ChatClient
from cqqa.retrieve.judge import Judge


@dataclass
class ReaderSource:
    client: ChatClient | None  # None: no reader
    bundled: local_reader.LocalReader | None  # the bundled server when started here: it lives as long as this
    name: str  # the reader's name for the page ("" when none)
    settings: ReaderSettings
    turns: Turns  # one queue for the reader's slots, shared by every Reader made here (whatever the index version)

    @classmethod
    def open(cls, llm: LLMSettings, settings: ReaderSettings, require: bool | None = None) -> "ReaderSource":
        """An external server (`llm` enabled) in translate mode; none when it generates instead.
        Without one, the bundled reader: `require` None starts it if it is fetched and
        `settings.wanted`; True requires it (start's error says what is missing); False: no reader."""
        bundled = None
        if require is False or (llm.enabled and llm.mode != "translate"):
            chosen = None
        elif llm.enabled:
            chosen = llm
        elif require or (settings.wanted and local_reader.available()):
            bundled = local_reader.start(slots=settings.slots, grammar=NO_CHINESE_GRAMMAR)
            chosen = bundled.settings
        else:
            chosen = None
        client = ChatClient(chosen) if chosen is not None else None
        name = (chosen.model or chosen.base_url) if chosen is not None else ""
        return cls(client, bundled, name, settings, Turns(settings.slots, settings.order))

    def judge(self, warn=lambda message: None) -> Judge | None:
        """The reader as a judge of near misses (retrieve/judge.py), unless CQQA_JUDGE=0 or there is
        none. The bundled reader is warmed with the judge's prompt at once (Judge.warm)."""
        if self.client is None or not self.settings.judge:
            return None
        judge = Judge(self.client, warn)
        if self.bundled is not None:
            judge.warm()
        return judge

    def reader(self, names: NameBridge) -> Reader | None:
        """A reader for one index version's names (its glossary), or None when there is none."""
        if self.client is None:
            return None
        return Reader(self.client, names, self.name, cache_entries=self.settings.cache_entries, turns=self.turns)
