"""Leases: one worker per task, expired leases reclaimable, no double posts under threads."""
from __future__ import annotations

import threading
from datetime import timedelta

from provisioning.settings import Settings
from provisioning.sync.claims import LeaseLost, claim_due, release, renew
from provisioning.sync.engine import run_due_sync
from store.db import connect
from tests.support.factories import T0, e164s, make_service, make_upload
from tests.support.fake_numbers_api import FakeNumbersApi
from tests.sync.helpers import number_states, outbox, task_of

LEASE = timedelta(minutes=5)


def _seed_uploads(db, uploads: int, per_upload: int) -> list[int]:
    ids = []
    with db.sessions.begin() as session:
        for i in range(uploads):
            service = make_service(session, f"svc-{i}", location_id=f"LOC-{i}")
            numbers = e164s(per_upload, start=100000000 + i * 1_000_000)
            ids.append(make_upload(session, service, numbers, room_id=f"room-{i}").id)
    return ids


def test_a_leased_task_is_not_claimed_again_until_the_lease_expires(db):
    [upload_id] = _seed_uploads(db, 1, 3)
    [mine] = claim_due(db, "w1", T0, LEASE)
    assert mine.upload_id == upload_id and mine.worker_id == "w1"
    assert task_of(db, upload_id).locked_until == T0 + LEASE

    assert claim_due(db, "w2", T0 + timedelta(minutes=4), LEASE) == []
    [taken] = claim_due(db, "w2", T0 + LEASE + timedelta(seconds=1), LEASE)
    assert taken.task_id == mine.task_id and task_of(db, upload_id).locked_by == "w2"


def test_the_old_holder_cannot_renew_or_release_a_lost_lease(db):
    _seed_uploads(db, 1, 3)
    [old] = claim_due(db, "w1", T0, LEASE)
    claim_due(db, "w2", T0 + LEASE + timedelta(seconds=1), LEASE)
    for action in (lambda s: renew(s, old, T0, LEASE), lambda s: release(s, old, next_run_at=T0)):
        with db.sessions() as session:
            try:
                action(session)
            except LeaseLost:
                pass
            else:
                raise AssertionError("a lost lease was still usable")


def test_tasks_not_yet_due_or_finished_are_not_claimed(db):
    [upload_id] = _seed_uploads(db, 1, 3)
    assert claim_due(db, "w1", T0 - timedelta(seconds=1), LEASE) == []
    [claim] = claim_due(db, "w1", T0, LEASE)
    with db.sessions.begin() as session:
        release(session, claim, state="done", finished_at=T0)
    assert claim_due(db, "w1", T0 + timedelta(days=1), LEASE) == []
    assert task_of(db, upload_id).locked_by is None


def test_concurrent_claims_never_hand_one_task_to_two_workers(db, db_url):
    _seed_uploads(db, 12, 1)
    workers = 4
    barrier = threading.Barrier(workers)
    claimed: dict[str, list[int]] = {}

    def worker(name: str) -> None:
        own = connect(db_url, auto_upgrade=False)
        try:
            barrier.wait()
            got = []
            while True:
                batch = claim_due(own, name, T0, LEASE, limit=2)
                if not batch:
                    break
                got.extend(c.task_id for c in batch)
            claimed[name] = got
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [task for got in claimed.values() for task in got]
    assert sorted(every) == sorted(set(every)) and len(every) == 12


def test_two_workers_in_threads_never_double_post(db, db_url):
    upload_ids = _seed_uploads(db, 6, 230)
    api = FakeNumbersApi()
    settings = Settings(sync_batch_size=50, sync_poll_seconds=60)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        own = connect(db_url, auto_upgrade=False)
        try:
            barrier.wait()
            for _ in range(20):
                if not run_due_sync(own, api, settings, worker_id=name, now=T0, max_tasks=1).claimed:
                    break
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    counts = api.post_counts()
    assert len(counts) == 6 * 230 and set(counts.values()) == {1}
    assert len(api.add_calls) == 6 * 5
    assert number_states(db) == {"live": 6 * 230}
    assert sorted(m.dedupe_key for m in outbox(db)) == sorted(f"ready:{u}" for u in upload_ids)
