"""Progress of long work (SPEC §4: a large import, export or release): how far it got, told to
the transport's sink (on Webex one message edited as work advances, in the shell a line on
standard error), only once the work has run `after` seconds and then at most every `every`
seconds, so a quick command never shows any.

The domain calls `tick` once per batch (thousands of rows), never per row.
"""
from __future__ import annotations

import time
from typing import Callable

from provisioning.text import counted

Sink = Callable[[str], None]


class Progress:
    """Throttled progress reports of one command."""

    def __init__(self, sink: Sink | None, *, after: float, every: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sink = sink
        self.after = after
        self.every = every
        self.clock = clock
        self.started = clock()
        self.last_told: float | None = None

    def tick(self, what: str, done: int, total: int | None = None, unit: str = "row") -> None:
        """Report `done` of `total` units `what` (e.g. "checked"), if it is time to."""
        if self.sink is None:
            return
        now = self.clock()
        if now - self.started < self.after:
            return
        if self.last_told is not None and now - self.last_told < self.every:
            return
        self.last_told = now
        self.sink(describe(what, done, total, unit))


def describe(what: str, done: int, total: int | None, unit: str = "row") -> str:
    """`⏳ 200,000 of 1,000,000 rows checked (20%)`."""
    if total:
        share = min(100, done * 100 // total)
        return f"⏳ {done:,} of {counted(total, unit)} {what} ({share}%)…"
    return f"⏳ {counted(done, unit)} {what}…"


def silent() -> Progress:
    """No reports (callers that have no transport to tell)."""
    return Progress(None, after=0, every=0)
