"""The reader: each quote of an extractive answer translated into the asker's language by a
language model, then checked by code (checks.py) before it is shown as checked.

A small model is used where it is strong, faithful translation of one given sentence, and the
input is prepared so that its known traps do not arise:

* magnitudes are written as English writes them (206.6万 -> 2.066 million, 27亿 -> 2.7
  billion): given 206.6万 a 1.5B model wrote "206.6 million", given 2,700,000,000 "27 billion";
* the people and organisations the name bridge knows are written in English in the input
  (赛力斯 -> Seres, 印奇 -> Yin Qi): left to itself it wrote "长安 Automobile", "Xingqi" or
  "the company";
* with the bundled llama.cpp reader a grammar forbids Chinese characters in the output.

A translation that fails a check is withheld: the quote stands, and the reasons are given.
A quote translated once (checked or withheld) is not sent to the model again while the reader
lives: many questions quote the same sentences, and the server's one reader is the slow part.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from dataclasses import replace

from cqqa.answer.checks import check
from cqqa.config import ReaderSettings
from cqqa.errors import LLMError
from cqqa.models.llm import ChatClient
from cqqa.index.names import NameBridge, curated_forms
from cqqa.answer.quantities import english_magnitudes
from cqqa.answer.turns import Turns
from cqqa.answer.types import Translation
from cqqa.textnorm import CJK_PUNCT, HAN, escaped, jieba, to_simplified

SYSTEM = ("You translate Chinese news sentences into English. Translate faithfully and completely; "
          "keep every number exactly as written. Reply with the English translation only.")
# For llama.cpp servers: no CJK ideographs, CJK punctuation or full-width forms in the output.
NO_CHINESE_GRAMMAR = f"root ::= [^{escaped(HAN + CJK_PUNCT)}]*"
MAX_TOKENS = 400
# The model sometimes talks about the translation before giving it ("The Chinese news sentence
# "…" translates to English as:", "Here is the translation:"): that line is not the translation.
PREAMBLE = re.compile(r"^[^\n]{0,200}?\btranslat(?:e|es|ed|ion)\b[^\n:：]{0,80}[:：]\s*", re.I)


class Reader:
    """Translates quotes through an OpenAI-compatible chat server (ChatClient)."""

    def __init__(self, client: ChatClient, names: NameBridge, name: str = "reader",
                 cache_entries: int = ReaderSettings.cache_entries,
                 turns: Turns | None = None):
        self.client = client
        self.turns = turns or Turns()  # who goes next when several answers wait (turns.py); shared across versions
        # finished translations kept (CQQA_TRANSLATION_CACHE; a quote is ~100 characters: 2,048 are well under 1 MB)
        self.cache_entries = cache_entries
        self.name = name
        self.subject_names = subject_names(names)
        self.glossary = dict(self.subject_names)
        curated = curated_forms()
        self._people = set(self.glossary) - curated
        for form, english in names.english_names().items():  # places and terms help the reader too
            if form in curated:
                self.glossary.setdefault(form, english)
        self._forms = sorted(self.glossary, key=len, reverse=True)
        # (quote, prepared input) -> its finished translation; the model and prompt are this reader's
        self._done: OrderedDict[tuple[str, str], Translation] = OrderedDict()
        self._lock = threading.Lock()
        self.cache_hits = self.cache_misses = 0

    def _cached(self, key: tuple[str, str]) -> Translation | None:
        with self._lock:
            found = self._done.get(key)
            if found is None:
                self.cache_misses += 1
                return None
            self._done.move_to_end(key)
            self.cache_hits += 1
            return found

    def _keep(self, key: tuple[str, str], item: Translation) -> None:
        with self._lock:
            self._done[key] = replace(item)
            while len(self._done) > self.cache_entries:
                self._done.popitem(last=False)

    def prepare(self, quote: str) -> tuple[str, dict[str, str]]:
        """The input the model sees (Simplified, magnitudes in English, known names in English) and
        the people and organisations it was given in English (form -> name)."""
        text = english_magnitudes(to_simplified(quote))
        given: dict[str, str] = {}
        # a person's name only where jieba reads it as a word: not 金白银 inside 真金白银
        tokens = set(jieba().lcut(text)) if any(p in text for p in self._people) else set()
        forms = [f for f in self._forms if f in text and (f not in self._people or f in tokens)]
        if forms:
            pattern = re.compile("|".join(re.escape(f) for f in forms))

            def english(match: re.Match) -> str:
                form = match.group(0)
                if form in self.subject_names:
                    given[form] = self.subject_names[form][0]
                return f" {self.glossary[form][0]} "

            text = pattern.sub(english, text)
        return re.sub(r" +", " ", text).strip(), given

    def translate(self, n: int, quote: str, rank: int = 0, asked: int | None = None) -> Iterator[Translation]:
        """Yields the translation as it is written (status "writing"), then checked, withheld or
        failed; a quote translated before: its finished translation at once (seconds 0). The model
        is asked when this quote's turn comes (`rank`: its place in its answer; `asked`: the
        answer's Turns ticket)."""
        prepared, given = self.prepare(quote)
        cached = self._cached((quote, prepared))
        if cached is not None:
            yield replace(cached, n=n, seconds=0.0, first_token_seconds=0.0)
            return
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Translate into English:\n{prepared}"}]
        started = time.monotonic()
        item = Translation(n, quote, status="writing")
        try:
            with self.turns.turn(rank, self.turns.ticket() if asked is None else asked):
                started = time.monotonic()  # the model's time, not the wait for a turn
                for piece in self.client.stream(messages, max_tokens=MAX_TOKENS):
                    if item.first_token_seconds is None:
                        item.first_token_seconds = time.monotonic() - started
                    item.draft += piece
                    yield replace(item)  # a snapshot: the caller may keep it
        except LLMError as exc:
            item.status, item.problems, item.seconds = "failed", [str(exc)], time.monotonic() - started
            yield item
            return
        item.seconds = time.monotonic() - started
        item.draft = without_preamble(item.draft)
        if not item.draft:
            item.status, item.problems = "failed", ["the reader wrote nothing"]
            yield item
            return
        result = check(item.draft, quote, self.subject_names, given)
        item.checks = {"numbers": result.numbers, "names": result.names, "script": result.script}
        item.problems = result.problems
        if result.passed:
            item.status, item.text = "checked", item.draft
        else:
            item.status = "withheld"
        self._keep((quote, prepared), item)  # a failure (server error, timeout) is tried again next time
        yield item

    def translate_all(self, quotes: list[tuple[int, str]]) -> Iterator[list[Translation]]:
        """Every (marker, quote)'s translation, one after another: all pending first, then the
        whole list again as each is written and checked. Its i-th quote waits behind other
        answers' earlier quotes (turns.py)."""
        translations = [Translation(n, quote) for n, quote in quotes]
        yield list(translations)
        asked = self.turns.ticket()
        for i, (n, quote) in enumerate(quotes):
            for translations[i] in self.translate(n, quote, i, asked):
                yield list(translations)


def without_preamble(draft: str) -> str:
    """The draft without a line introducing the translation ("" when nothing follows that line)."""
    draft = draft.strip()
    match = PREAMBLE.match(draft)
    return draft[match.end():].strip() if match else draft


@lru_cache(maxsize=4)
def subject_names(names: NameBridge) -> dict[str, list[str]]:
    """The English names of the corpus's people and organisations (Chinese form -> names), once
    per loaded name bridge (the reader and every generated answer's checks share it; do not
    modify the dict).

    People found by jieba include common words it mis-tags (高水平, 王座, 陆海空): a form that
    is not in the curated table and that jieba's dictionary knows as a common word (frequency
    above 5; 朱华荣 has 5, 王座 49) is left out."""
    curated = curated_forms()
    words = jieba().dt.FREQ
    english = names.english_names()
    return {form: english[form] for form in names.subjects
            if form in english and form not in NOT_NAMES
            and (form in curated or (words.get(form) or 0) <= COMMON_WORD_FREQ)}


COMMON_WORD_FREQ = 5
NOT_NAMES = {"金白银"}  # 真金白银 ("real money"), which jieba splits and tags as a name
