"""`leadsbot serve` claims between bursts of deliveries, and at the latest `longest` into a burst."""
from __future__ import annotations

import threading

from pytest import approx

from bot.lull import Lull


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_without_deliveries_processing_never_waits():
    assert Lull(clock=Clock()).hold() == 0


def test_processing_waits_until_deliveries_pause():
    clock = Clock()
    lull = Lull(quiet=0.05, longest=1.0, clock=clock)
    lull.delivered()
    assert lull.hold() == approx(0.05)
    clock.now += 0.03
    assert lull.hold() == approx(0.02)
    clock.now += 0.02
    assert lull.hold() == 0


def test_a_burst_that_goes_on_holds_processing_back_for_at_most_longest():
    clock = Clock()
    lull = Lull(quiet=0.05, longest=1.0, clock=clock)
    for _ in range(100):  # one delivery every 10 ms for a second: never a pause
        lull.delivered()
        assert lull.hold() > 0
        clock.now += 0.01
    lull.delivered()
    assert lull.hold() == 0  # a second into the burst: steady traffic is processed, a second late at most
    clock.now += 0.01
    lull.delivered()
    assert lull.hold() == 0


def test_after_a_pause_the_next_burst_is_held_back_again():
    clock = Clock()
    lull = Lull(quiet=0.05, longest=1.0, clock=clock)
    lull.delivered()
    clock.now += 2.0  # a long pause: the first burst is over
    lull.delivered()
    assert lull.hold() == approx(0.05)


def test_wait_returns_when_the_lull_comes_or_when_stopping():
    clock = Clock()
    lull = Lull(quiet=0.05, longest=1.0, clock=clock)
    lull.delivered()
    stop = threading.Event()
    waiter = threading.Thread(target=lull.wait, args=(stop,))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # the clock stands still: deliveries never paused
    clock.now += 0.05
    waiter.join(5)
    assert not waiter.is_alive()
    clock.now = 200.0
    lull.delivered()
    waiter = threading.Thread(target=lull.wait, args=(stop,))
    waiter.start()
    stop.set()
    waiter.join(5)
    assert not waiter.is_alive()
