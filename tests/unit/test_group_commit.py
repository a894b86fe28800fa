"""Group commit: each caller gets its own result, a failed write fails its whole batch only."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.group_commit import GroupCommit


class GatedWriter:
    """Holds its first write until released, so the items submitted meanwhile form one batch."""

    def __init__(self, fail_on: set[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, batch: list[int]) -> list[int]:
        self.batches.append(list(batch))
        if len(self.batches) == 1:
            self.first_started.set()
            assert self.release.wait(10)
        if self.fail_on & set(batch):
            raise RuntimeError(f"write of {sorted(self.fail_on & set(batch))} refused")
        return [item * 10 for item in batch]


def test_callers_waiting_during_a_write_share_the_next_batch_and_each_gets_its_own_result():
    writer = GatedWriter()
    group = GroupCommit(writer, max_batch=100)
    with ThreadPoolExecutor(max_workers=21) as pool:
        first = pool.submit(group.submit, 0)
        assert writer.first_started.wait(10)
        rest = {n: pool.submit(group.submit, n) for n in range(1, 21)}
        while sum(len(b) for b in writer.batches) + len(group._waiting) < 21:  # all twenty queued
            threading.Event().wait(0.01)
        writer.release.set()
        assert first.result(10) == 0
        assert {n: future.result(10) for n, future in rest.items()} == {n: n * 10 for n in range(1, 21)}
    assert writer.batches[0] == [0]
    assert sorted(writer.batches[1]) == list(range(1, 21))  # one commit for the twenty that waited
    assert len(writer.batches) == 2


def test_batches_never_exceed_their_limit():
    writer = GatedWriter()
    group = GroupCommit(writer, max_batch=4)
    with ThreadPoolExecutor(max_workers=11) as pool:
        futures = [pool.submit(group.submit, 0)]
        assert writer.first_started.wait(10)
        futures += [pool.submit(group.submit, n) for n in range(1, 11)]
        while sum(len(b) for b in writer.batches) + len(group._waiting) < 11:
            threading.Event().wait(0.01)
        writer.release.set()
        assert sorted(f.result(10) for f in futures) == [n * 10 for n in range(11)]
    assert max(len(b) for b in writer.batches) <= 4
    assert sorted(n for b in writer.batches for n in b) == list(range(11))


def test_a_failed_write_fails_every_caller_of_its_batch_and_the_next_batch_still_writes():
    writer = GatedWriter(fail_on={3})
    group = GroupCommit(writer)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(group.submit, 0)
        assert writer.first_started.wait(10)
        same_batch = [pool.submit(group.submit, n) for n in (1, 2, 3)]
        while len(group._waiting) < 3:
            threading.Event().wait(0.01)
        writer.release.set()
        assert first.result(10) == 0
        for future in same_batch:
            with pytest.raises(RuntimeError, match=r"write of \[3\] refused"):
                future.result(10)
    assert group.submit(4, timeout=10) == 40


def test_a_write_that_outlasts_the_timeout_is_reported_as_not_known_to_be_written():
    writer = GatedWriter()
    group = GroupCommit(writer)
    with pytest.raises(TimeoutError):
        group.submit(1, timeout=0.05)
    writer.release.set()
    assert group.submit(2, timeout=10) == 20
