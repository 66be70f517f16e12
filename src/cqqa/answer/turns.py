"""Whose quote the reader translates next when several people's answers wait for it.

The reader model has a few slots (CQQA_READER_SLOTS; the bundled llama.cpp server's n_parallel); every
answer wants one per quote, one quote after another. Served in arrival order, a person who asks
while three answers are being translated waits behind all their remaining quotes. Here a
waiting quote's turn is ranked by its place in its own answer, then by when its question was
asked: everyone's first quote comes before anyone's second, and so on. Each person sees a checked
translation soon. A quote moves up one place for every 10 s it has waited (AGE_SECONDS), so new
questions' first quotes cannot hold back an answer's later ones for ever.

    turns = Turns(slots=4)
    asked = turns.ticket()            # once per answer
    with turns.turn(rank=i, asked=asked):   # around each model call, i = the quote's place
        ...
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cqqa.config import ORDERS, ReaderSettings

AGE_SECONDS = 10.0  # a quote that has waited this long moves up one place (no answer waits for ever)


@dataclass(eq=False)
class Waiting:
    rank: int  # the quote's place in its answer
    asked: int  # its answer's ticket
    arrival: int
    since: float
    granted: bool = False


class Turns:
    def __init__(self, slots: int = ReaderSettings.slots, order: str = ReaderSettings.order,
                 age_seconds: float = AGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        """`order` "arrival": first come, first served (the baseline eval/bench_load.py compares).
        `age_seconds`: in fair order, every whole that many seconds waited counts as one place earlier,
        so that later quotes are not held back for ever by new questions' first quotes."""
        if slots < 1:
            raise ValueError(f"the reader needs at least one slot, not {slots}")
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
        self.slots, self.fair, self.age_seconds, self.clock = slots, order == "fair", age_seconds, clock
        self._free = slots
        self._waiting: list[Waiting] = []
        self._cond = threading.Condition()
        self._asked = itertools.count()
        self._arrival = itertools.count()

    def ticket(self) -> int:
        """The order of a question's answer among those being translated (call once per answer)."""
        return next(self._asked)

    def _place(self, w: Waiting, now: float) -> tuple:
        if not self.fair:
            return (w.arrival,)
        return (w.rank - int((now - w.since) // self.age_seconds), w.asked, w.arrival)

    def _grant(self) -> None:
        """Give the free slots to the first waiting quotes (under the lock)."""
        now = self.clock()
        while self._free and self._waiting:
            first = min(self._waiting, key=lambda w: self._place(w, now))
            self._waiting.remove(first)
            first.granted, self._free = True, self._free - 1
        self._cond.notify_all()

    @contextmanager
    def turn(self, rank: int, asked: int) -> Iterator[None]:
        """Wait until this quote is the first waiting one and a slot is free; hold the slot inside."""
        me = Waiting(rank, asked, next(self._arrival), self.clock())
        with self._cond:
            self._waiting.append(me)
            self._grant()
            while not me.granted:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._grant()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)
