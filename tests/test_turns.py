"""Whose quote the reader translates next (turns.py): everyone's first quote before anyone's second.

The reader is real (reader.py's Reader, translate_all); the model behind it is an in-process
client whose every call waits until the test lets it finish, so the order in which quotes reach
the model is exactly what the scheduler decided."""

from __future__ import annotations

import threading
import time

import pytest

from cqqa.answer.reader import Reader
from cqqa.answer.turns import Turns
from cqqa.index.names import NameBridge

pytestmark = pytest.mark.unit


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def served(turns: Turns, waiting: list[tuple[int, int, str]], at=(), now=None) -> list[str]:
    """The order in which `waiting` (rank, asked, name), queued one by one while the only slot is
    held, get their turn; with `at`, the fake clock `now` reads at[i] when the i-th is queued."""
    order, hold = [], threading.Event()

    def take(rank, asked, name):
        with turns.turn(rank, asked):
            order.append(name)
            if name == "running":
                hold.wait(10)

    first = threading.Thread(target=take, args=(0, 0, "running"))
    first.start()
    wait_until(lambda: order == ["running"])
    waiters = [threading.Thread(target=take, args=args) for args in waiting]
    for n, t in enumerate(waiters, start=1):
        if at:
            now[0] = at[n - 1]
        t.start()
        wait_until(lambda: turns.waiting == n)
    hold.set()
    for t in [first, *waiters]:
        t.join(10)
    return order[1:]


def test_the_earliest_quote_of_the_earliest_question_goes_first():
    waiting = [(2, 0, "A3"), (1, 1, "B2"), (0, 3, "D1"), (0, 2, "C1"), (1, 0, "A2")]
    assert served(Turns(slots=1), waiting) == ["C1", "D1", "A2", "B2", "A3"]


def test_slots_limit_how_many_run_at_once():
    turns, running, most = Turns(slots=2), [0], [0]
    lock = threading.Lock()

    def work(i):
        with turns.turn(0, i):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 2 and turns.waiting == 0


def test_a_turn_is_given_back_when_the_work_fails():
    turns = Turns(slots=1)
    with pytest.raises(RuntimeError):
        with turns.turn(0, 0):
            raise RuntimeError("the server went away")
    with turns.turn(0, 1):  # would wait forever if the slot had not been given back
        pass
    with pytest.raises(ValueError, match="at least one slot"):
        Turns(slots=0)


class GatedModel:
    """A chat client whose calls finish only when the test says so; it records which quote each
    call translates, in the order the calls reach it."""

    def __init__(self):
        self.calls: list[str] = []
        self.gate = threading.Semaphore(0)

    def stream(self, messages, max_tokens=None):
        quote = messages[-1]["content"].rsplit("\n", 1)[-1]
        self.calls.append(quote)
        if not self.gate.acquire(timeout=10):
            raise AssertionError("the test never let this call finish")
        yield "Sales reached 10,000 vehicles."


def test_a_late_asker_s_first_quote_goes_before_earlier_askers_second():
    model = GatedModel()
    reader = Reader(model, NameBridge({}, subjects=[]), cache_entries=0, turns=Turns(slots=1))
    quotes = {name: [(i + 1, f"{name}第{i + 1}句销量1万辆。") for i in range(3)] for name in "ABC"}

    def answer(name):
        for _ in reader.translate_all(quotes[name]):
            pass

    threads = {name: threading.Thread(target=answer, args=(name,)) for name in "ABC"}
    threads["A"].start()
    wait_until(lambda: len(model.calls) == 1)  # A's first quote is with the model
    threads["B"].start()
    wait_until(lambda: reader.turns.waiting == 1)  # B's first waits
    model.gate.release()  # A's first is done: B's first goes in, A's second waits
    wait_until(lambda: len(model.calls) == 2 and reader.turns.waiting == 1)
    threads["C"].start()  # asked while B's first is translated: C's first goes before A's second
    wait_until(lambda: reader.turns.waiting == 2)
    for _ in range(9):
        model.gate.release()
    for t in threads.values():
        t.join(10)
    written = [q[:3] for q in model.calls]
    assert written == ["A第1", "B第1", "C第1", "A第2", "B第2", "C第2", "A第3", "B第3", "C第3"]


def test_arrival_order_is_first_come_first_served_and_unknown_orders_are_refused():
    waiting = [(2, 0, "A3"), (0, 3, "D1"), (1, 0, "A2")]
    assert served(Turns(slots=1, order="arrival"), waiting) == ["A3", "D1", "A2"]
    with pytest.raises(ValueError, match="unknown order"):
        Turns(order="random")


@pytest.mark.parametrize("variable, value, words", [
    ("CQQA_READER_SLOTS", "0", "between 1 and 16"), ("CQQA_READER_SLOTS", "two", "not an integer"),
    ("CQQA_READER_ORDER", "random", "use fair or arrival"), ("CQQA_TRANSLATION_CACHE", "-1", "0 \\(no cache\\) or more"),
    ("CQQA_READER", "maybe", "use auto or 0")])
def test_the_reader_s_settings_refuse_nonsense(monkeypatch, variable, value, words):
    from cqqa.config import ReaderSettings
    from cqqa.errors import ConfigError

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=words):
        ReaderSettings.from_env()
    monkeypatch.delenv(variable)
    monkeypatch.setenv("CQQA_READER", "auto")
    assert ReaderSettings.from_env() == ReaderSettings(wanted=True, slots=4, order="fair", cache_entries=2048)
    monkeypatch.setenv("CQQA_READER", "0")
    assert ReaderSettings.from_env().wanted is False


def test_a_quote_that_waited_long_goes_before_a_new_first_quote():
    now = [0.0]
    turns = Turns(slots=1, age_seconds=10, clock=lambda: now[0])
    # A3 waited 16 s: place 2 - 1; B2 15 s: 1 - 1; E1 has just come: 0, asked after B2's answer
    waiting = [(2, 0, "A3"), (1, 1, "B2"), (0, 5, "E1")]
    assert served(turns, waiting, at=[0.0, 1.0, 16.0], now=now) == ["B2", "E1", "A3"]
    assert served(Turns(slots=1, age_seconds=1e9), waiting) == ["E1", "B2", "A3"]  # without aging
