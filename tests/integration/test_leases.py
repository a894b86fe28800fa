"""store/leases.py on real databases: a claim takes at most `limit` rows, oldest first, each once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from store import leases
from store.leases import LeaseLost
from store.models import OutboxMessage, utcnow

QUEUE = leases.WorkQueue(OutboxMessage, OutboxMessage.sent_at.is_(None), (OutboxMessage.id,))
LEASE = timedelta(minutes=1)


def add_rows(db, count: int) -> list[int]:
    now = utcnow()
    with db.sessions.begin() as session:
        rows = [OutboxMessage(room_id="room", markdown=f"m{n}", created_at=now, next_run_at=now) for n in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def claim(db, worker: str, limit: int = 1, now=None):
    with db.engine.begin() as conn:
        return leases.claim(conn, QUEUE, worker, now or utcnow(), LEASE, limit=limit,
                            returning=(OutboxMessage.markdown,))


def leased(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.locked_by.is_not(None)))


def test_a_claim_takes_exactly_limit_rows_oldest_first(db):
    ids = add_rows(db, 5)
    assert [row.id for row in claim(db, "w1")] == ids[:1]
    assert leased(db) == 1  # PostgreSQL must not run the SKIP LOCKED pick once per row
    assert [row.id for row in claim(db, "w2", limit=3)] == ids[1:4]
    assert leased(db) == 4
    assert [row.markdown for row in claim(db, "w3", limit=3)] == ["m4"]
    assert claim(db, "w4") == []


def test_concurrent_workers_never_take_the_same_row(db):
    add_rows(db, 40)
    taken: list[int] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        while rows := claim(db, worker):
            with lock:
                taken.extend(row.id for row in rows)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 40


def test_renew_and_release_only_while_the_lease_is_ours(db):
    [row_id] = add_rows(db, 1)
    claim(db, "w1")
    with db.engine.begin() as conn:
        leases.renew(conn, QUEUE, row_id, "w1", utcnow(), LEASE)
        with pytest.raises(LeaseLost):
            leases.renew(conn, QUEUE, row_id, "w2", utcnow(), LEASE)
        with pytest.raises(LeaseLost):
            leases.release(conn, QUEUE, row_id, "w2", sent_at=utcnow())
        leases.release(conn, QUEUE, row_id, "w1", sent_at=utcnow())
    assert claim(db, "w2") == [] and leased(db) == 0


def test_an_expired_lease_is_claimed_again(db):
    [row_id] = add_rows(db, 1)
    claim(db, "dead worker")
    assert claim(db, "w2") == []
    [again] = claim(db, "w2", now=utcnow() + LEASE + timedelta(seconds=1))
    assert again.id == row_id
    with db.engine.begin() as conn, pytest.raises(LeaseLost):
        leases.release(conn, QUEUE, row_id, "dead worker", sent_at=utcnow())


def test_worker_ids_are_unique_and_fit_the_column():
    assert leases.worker_id("inbox") != leases.worker_id("inbox")
    assert leases.worker_id("x" * 200).startswith("x") and len(leases.worker_id("x" * 200)) <= 100
