"""Group commit: the small writes of many request threads made as one transaction.

Under a burst of webhook deliveries every request thread would otherwise open its own
transaction and wait for its own commit, which on PostgreSQL is a WAL flush each and on SQLite
a turn at the one write lock each. Here a request hands its item to a writer thread and waits
for its own result; the writer takes everything that arrived meanwhile and writes it in one
go. One delivery alone waits for nothing more than its own write; a burst of them shares a
handful of commits (the technique databases use for their own logs).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """`submit(item)` returns `write_all(batch)[i]` for its item, batches holding up to `max_batch` items.

    When `write_all` raises, every caller of that batch gets the exception: nothing of the
    batch was committed. The writer thread starts on first use, so an instance made before a
    fork (gunicorn) works in the child."""

    def __init__(self, write_all: Callable[[list[Item]], Sequence[Result]], *, max_batch: int = 200,
                 name: str = "group-commit") -> None:
        self._write_all = write_all
        self._max_batch = max_batch
        self._name = name
        self._waiting: list[tuple[Item, Future]] = []
        self._arrived = threading.Condition()
        self._writer: threading.Thread | None = None

    def submit(self, item: Item, timeout: float | None = None) -> Result:
        """Write `item` with whatever else is waiting; its result, or what the write raised.

        A `timeout` raises TimeoutError while the write may still complete later: callers
        must treat that as "not known to be written" (a webhook answers 503, Webex redelivers)."""
        future: Future = Future()
        with self._arrived:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._writer.start()
            self._waiting.append((item, future))
            self._arrived.notify()
        return future.result(timeout)

    def _run(self) -> None:
        while True:
            with self._arrived:
                while not self._waiting:
                    self._arrived.wait()
                batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
            try:
                results = self._write_all([item for item, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - every waiting caller must hear of it
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
