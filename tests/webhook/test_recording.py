"""Recording deliveries fast under load: batched commits, SQLite's write lock taken promptly,
and processing that yields to a burst of deliveries (`leadsbot serve`)."""
from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import events
from bot.envelopes import from_webhook
from bot.events import Inbox, record, record_many
from bot.lull import Lull
from store.db import connect
from store.models import WebhookEvent
from tests.webhook.conftest import envelope, post_event, wait_until


def message(event_id: str, room: str = "ROOM-1", person: str = "PERSON-1"):
    return from_webhook(envelope(event_id, roomId=room, personId=person))


def arrival_order(db) -> list[str]:
    with db.sessions() as session:
        return list(session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.seq)))


def test_a_batch_records_each_event_once_in_its_order_and_says_which_were_new(db):
    assert record(db, message("OLD"))
    batch = [message("A"), message("OLD"), message("B"), message("A"), message("C")]
    assert record_many(db, batch) == [True, False, True, False, True]
    assert arrival_order(db) == ["OLD", "A", "B", "C"]


def test_concurrent_deliveries_are_each_acknowledged_and_recorded_once(app, db):
    ids = [f"MSG-{n}" for n in range(40)]
    deliveries = ids + ids[::4]  # every fourth one redelivered while the burst is on

    def deliver(event_id: str):
        response = post_event(app.test_client(), envelope(event_id, roomId=f"ROOM-{event_id}"))
        return event_id, response.status_code, response.get_json()["duplicate"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(deliver, deliveries))
    assert {status for _, status, _ in answers} == {202}
    assert sorted(event_id for event_id, _, duplicate in answers if not duplicate) == sorted(ids)
    assert sorted(arrival_order(db)) == sorted(ids)


@pytest.fixture
def sqlite_db(sqlite_template, tmp_path):
    path = tmp_path / "locked.db"
    shutil.copy(sqlite_template, path)
    database = connect(f"sqlite:///{path}", auto_upgrade=False)
    yield database
    database.dispose()


def test_on_sqlite_a_recording_waits_for_another_writer_and_goes_in_once_it_commits(sqlite_db):
    other = sqlite_db.engine.raw_connection()
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction holds the lock
    done = []
    writer = threading.Thread(target=lambda: done.append(record(sqlite_db, message("WAITED"))))
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and not done
    other.commit()
    other.close()
    writer.join(10)
    assert done == [True]
    assert arrival_order(sqlite_db) == ["WAITED"]


def test_on_sqlite_a_recording_gives_up_after_its_patience_and_leaves_nothing(sqlite_db):
    other = sqlite_db.engine.raw_connection()
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            sqlite_db.write_promptly(
                lambda conn: conn.exec_driver_sql("INSERT INTO heartbeats VALUES ('x', '2026-01-01', 'w')"),
                patience=0.1)
    finally:
        other.rollback()
        other.close()
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM heartbeats").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000  # its usual patience again


def test_idle_workers_search_one_at_a_time(db, monkeypatch):
    searching = 0
    most = 0
    lock = threading.Lock()
    real_claim = events.claim

    def watched_claim(*args, **kwargs):
        nonlocal searching, most
        with lock:
            searching += 1
            most = max(most, searching)
        try:
            time.sleep(0.01)  # a slow search, so overlapping ones would show
            return real_claim(*args, **kwargs)
        finally:
            with lock:
                searching -= 1

    monkeypatch.setattr(events, "claim", watched_claim)
    inbox = Inbox(db, lambda envelope_: None, threads=4, poll_seconds=0.05)
    inbox.start()
    try:
        for _ in range(20):  # news without events: every wake-up asks for a search
            inbox.wake()
            time.sleep(0.005)
        time.sleep(0.2)
    finally:
        inbox.stop()
    assert most == 1


def test_events_wait_for_a_lull_in_deliveries_before_they_are_claimed(db):
    now = [0.0]
    lull = Lull(quiet=0.05, longest=1.0, clock=lambda: now[0])
    processed = []
    inbox = Inbox(db, lambda envelope_: processed.append(envelope_["data"]["id"]), threads=2, poll_seconds=0.05,
                  lull=lull)
    inbox.start()
    try:
        for n in range(3):
            assert record(db, message(f"BURST-{n}", room=f"ROOM-{n}", person=f"PERSON-{n}"))
            lull.delivered()
            inbox.wake()
        time.sleep(0.3)
        assert processed == []  # deliveries have not paused (the clock stands still)
        now[0] += 0.05
        assert wait_until(lambda: len(processed) == 3)
    finally:
        inbox.stop()
    assert sorted(processed) == ["BURST-0", "BURST-1", "BURST-2"]
