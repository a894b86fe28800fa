"""The durable inbox: leases, crash recovery, retries and exactly-once claiming."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import requests
from sqlalchemy import select, update

from bot.app import create_app, runtime_of
from bot.bootstrap import Wiring
from bot.envelopes import from_webhook
from bot.events import Inbox, PermanentError, claim, prune, record
from handlers.base import Services
from store.models import WebhookEvent, utcnow
from tests.webhook.conftest import envelope, post_event, wait_until


def record_in(db, event_id: str, room: str = "ROOM-1", person: str = "PERSON-1") -> None:
    assert record(db, from_webhook(envelope(event_id, roomId=room, personId=person)))


def row(db, event_id: str) -> WebhookEvent:
    with db.sessions() as session:
        return session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_id))


def test_event_acknowledged_by_a_process_that_died_is_processed_after_restart(db, settings, webex, recorded):
    webex.add_message("MSG-1", "leads")
    first = create_app(wiring=Wiring(Services(db, settings), webex, None), start_workers=False,
                       dispatch=recorded)
    assert post_event(first.test_client(), envelope("MSG-1")).status_code == 202
    # The first process is gone before any worker ran; a new one starts its workers.
    restarted = create_app(wiring=Wiring(Services(db, settings), webex, None), dispatch=recorded,
                           inbox_options={"poll_seconds": 0.05})
    try:
        assert wait_until(lambda: row(db, "MSG-1").state == "done")
    finally:
        runtime_of(restarted).stop()
    assert row(db, "MSG-1").state == "done"
    assert [r.text for r in recorded.requests] == ["leads"]


def test_an_expired_lease_is_reclaimed_but_a_live_one_is_not(db):
    record_in(db, "A", "ROOM-A", "PERSON-A")
    record_in(db, "B", "ROOM-B", "PERSON-B")
    lease = timedelta(seconds=60)
    assert claim(db, "crashed-worker", lease).id == "A"
    assert claim(db, "other", lease).id == "B"
    assert claim(db, "other", lease) is None  # both leased and alive
    with db.engine.begin() as conn:  # the worker holding A died long ago
        conn.execute(update(WebhookEvent).where(WebhookEvent.id == "A")
                     .values(locked_until=utcnow() - timedelta(seconds=1)))
    reclaimed = claim(db, "new-worker", lease)
    assert (reclaimed.id, reclaimed.attempts) == ("A", 2)
    assert row(db, "A").locked_by == "new-worker"


def test_transient_failure_is_retried_later_then_succeeds(db):
    calls = []

    def flaky(envelope_: dict) -> None:
        calls.append(envelope_["data"]["id"])
        if len(calls) == 1:
            raise requests.ConnectionError("webex unreachable")

    inbox = Inbox(db, flaky, retry_base_seconds=30)
    record_in(db, "MSG-1")
    assert inbox.run_once() is True
    failed_once = row(db, "MSG-1")
    assert failed_once.state == "pending" and failed_once.attempts == 1
    assert failed_once.next_run_at > utcnow() + timedelta(seconds=14)  # at least half the base wait
    assert failed_once.error == "ConnectionError"
    assert inbox.run_once() is False  # not due yet
    with db.engine.begin() as conn:
        conn.execute(update(WebhookEvent).values(next_run_at=utcnow()))
    assert inbox.run_once() is True
    assert row(db, "MSG-1").state == "done" and calls == ["MSG-1", "MSG-1"]


def test_attempts_are_bounded_and_permanent_errors_are_not_retried(db):
    def broken(envelope_: dict) -> None:
        if envelope_["data"]["id"] == "PERM":
            raise PermanentError("reply not delivered: HTTP 400")
        if envelope_["data"]["id"] == "BUG":
            raise KeyError("roomId")
        raise requests.Timeout()

    inbox = Inbox(db, broken, max_attempts=3, retry_base_seconds=0)
    for event_id in ("PERM", "BUG", "FLAKY"):
        record_in(db, event_id)
    while inbox.run_once():
        pass
    assert (row(db, "PERM").state, row(db, "PERM").attempts) == ("failed", 1)
    assert row(db, "PERM").error == "reply not delivered: HTTP 400"
    assert (row(db, "BUG").state, row(db, "BUG").attempts, row(db, "BUG").error) == ("failed", 1, "KeyError")
    assert (row(db, "FLAKY").state, row(db, "FLAKY").attempts) == ("failed", 3)


def test_concurrent_workers_process_every_event_exactly_once(db):
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def process(envelope_: dict) -> None:
        with lock:
            seen[envelope_["data"]["id"]] += 1

    ids = [f"MSG-{n}" for n in range(60)]
    for n, event_id in enumerate(ids):
        record_in(db, event_id, f"ROOM-{n % 6}", f"PERSON-{n % 6}")
    inboxes = [Inbox(db, process) for _ in range(2)]

    def work(inbox: Inbox, index: int) -> None:
        while inbox.run_once(f"worker-{index}"):
            pass

    threads = [threading.Thread(target=work, args=(inboxes[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == Counter({event_id: 1 for event_id in ids})
    with db.sessions() as session:
        assert set(session.scalars(select(WebhookEvent.state))) == {"done"}


def test_running_workers_pick_up_new_events(db, settings, webex, recorded):
    app = create_app(wiring=Wiring(Services(db, settings), webex, None), dispatch=recorded,
                     inbox_options={"poll_seconds": 0.05})
    client = app.test_client()
    try:
        for n in range(5):
            webex.add_message(f"MSG-{n}", f"numbers {n}")
            assert post_event(client, envelope(f"MSG-{n}")).status_code == 202
        assert wait_until(lambda: len(recorded.requests) == 5)
        assert client.get("/healthz").get_json()["inbox_workers"] == 4
    finally:
        runtime_of(app).stop()
    assert sorted(r.text for r in recorded.requests) == [f"numbers {n}" for n in range(5)]


def test_old_processed_events_are_pruned_but_recent_ones_kept(db):
    inbox = Inbox(db, lambda envelope_: None)
    for event_id in ("OLD", "NEW", "WAITING"):
        record_in(db, event_id)
    inbox.run_once()
    inbox.run_once()
    with db.engine.begin() as conn:
        conn.execute(update(WebhookEvent).where(WebhookEvent.id == "OLD")
                     .values(processed_at=utcnow() - timedelta(days=30)))
    assert prune(db) == 1
    with db.sessions() as session:
        assert sorted(session.scalars(select(WebhookEvent.id))) == ["NEW", "WAITING"]
