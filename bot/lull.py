"""Processing waits for a lull in webhook deliveries before claiming more events (`leadsbot serve`).

`leadsbot serve` acknowledges and processes on the same machine. During a burst of deliveries
every claim, handler and reply takes CPU (and, on SQLite, turns at the one write lock) that the
acknowledgements need, and a lower CPU priority alone cannot stop that: the database server and
the lock do not know who is niced. So while deliveries keep arriving, new events wait to be
claimed (events in hand go on); once deliveries pause for `quiet` seconds, or a burst has lasted
`longest` seconds, claiming resumes. Steady traffic is therefore processed as before, at most
`longest` later, and a burst is acknowledged first and answered right after.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

QUIET_SECONDS = 0.05
LONGEST_SECONDS = 1.0


class Lull:
    """Told of each delivery (`delivered`); `wait` returns when processing may claim again."""

    def __init__(self, quiet: float = QUIET_SECONDS, longest: float = LONGEST_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = quiet
        self.longest = longest
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._burst_began = 0.0

    def delivered(self) -> None:
        with self._lock:
            now = self._clock()
            if self._last is None or now - self._last >= self.quiet:
                self._burst_began = now
            self._last = now

    def hold(self) -> float:
        """Seconds to wait before claiming: 0 in a lull or once the burst has lasted `longest`."""
        with self._lock:
            if self._last is None:
                return 0.0
            now = self._clock()
            until_quiet = self._last + self.quiet - now
            until_longest = self._burst_began + self.longest - now
            return max(0.0, min(until_quiet, until_longest))

    def wait(self, stop: threading.Event) -> None:
        """Block while `hold()` says so (or until `stop` is set)."""
        while (delay := self.hold()) > 0:
            if stop.wait(delay):
                return
