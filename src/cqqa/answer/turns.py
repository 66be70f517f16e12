"""Whose quote the reader translates next when several people's answers wait for it.

The reader model has a few slots (CQQA_READER_SLOTS; the bundled llama.cpp server's n_parallel); every
answer wants one per quote, one quote after another. Served in arrival order, a person who asks
while three answers are being translated waits behind all their remaining quotes. Here a
waiting quote's turn is ranked by its place in its own answer, then by when its question was
asked: everyone's first quote comes before anyone's second, and so on. Each person sees a checked
translation soon, and nobody's answer is stalled for long.

    turns = Turns(slots=4)
    asked = turns.ticket()            # once per answer
    with turns.turn(rank=i, asked=asked):   # around each model call, i = the quote's place
        ...
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager


ORDERS = ("fair", "arrival")


class Turns:
    def __init__(self, slots: int = 4, order: str = "fair"):
        """`order` "arrival": first come, first served (the baseline eval/bench_load.py compares)."""
        if slots < 1:
            raise ValueError(f"the reader needs at least one slot, not {slots}")
        if order not in ORDERS:
            raise ValueError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
        self.slots, self.fair = slots, order == "fair"
        self._free = slots
        self._waiting: list[tuple[int, int, int]] = []  # (rank, asked, arrival): a heap
        self._cond = threading.Condition()
        self._asked = itertools.count()
        self._arrival = itertools.count()

    def ticket(self) -> int:
        """The order of a question's answer among those being translated (call once per answer)."""
        return next(self._asked)

    @contextmanager
    def turn(self, rank: int, asked: int) -> Iterator[None]:
        """Wait until this quote is the first waiting one and a slot is free; hold the slot inside."""
        arrival = next(self._arrival)
        me = (rank, asked, arrival) if self.fair else (0, arrival, arrival)
        with self._cond:
            heapq.heappush(self._waiting, me)
            try:
                while not (self._free and self._waiting[0] == me):
                    self._cond.wait()
            finally:
                self._waiting.remove(me)
                heapq.heapify(self._waiting)
            self._free -= 1
            self._cond.notify_all()  # the next waiting quote may take another free slot
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)
