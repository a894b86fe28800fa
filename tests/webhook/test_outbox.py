"""flush_outbox: each owed message sent once, failures retried with a bound."""
from __future__ import annotations

import threading

from sqlalchemy import select, update

from bot.outbox import flush_outbox
from handlers.base import Services
from store.models import OutboxMessage, utcnow


def add(db, room_id: str, markdown: str, key: str) -> None:
    with db.sessions.begin() as session:
        session.add(OutboxMessage(room_id=room_id, markdown=markdown, dedupe_key=key))


def rows(db) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_unsent_messages_are_sent_once(db, settings, webex):
    services = Services(db, settings)
    add(db, "ROOM-1", "✅ roma-cc is Ready: 3 numbers live in Webex", "ready:1")
    add(db, "ROOM-2", "digest", "digest:ROOM-2:2026-11-23")
    assert flush_outbox(services, webex) == 2
    assert flush_outbox(services, webex) == 0
    assert [(room, reply.markdown) for room, reply, _ in webex.sent] == [
        ("ROOM-1", "✅ roma-cc is Ready: 3 numbers live in Webex"), ("ROOM-2", "digest")]
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows(db))


def test_a_failed_send_backs_off_and_gives_up_after_max_attempts(db, settings, webex):
    services = Services(db, settings)
    add(db, "ROOM-1", "Ready", "ready:1")

    def down(room_id, reply, parent_id=None):
        raise OSError("network down")

    webex.send_reply = down
    assert flush_outbox(services, webex, max_attempts=2) == 0
    [row] = rows(db)
    assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "OSError")
    assert row.next_run_at > utcnow()
    assert flush_outbox(services, webex, max_attempts=2) == 0  # not due yet
    with db.engine.begin() as conn:
        conn.execute(update(OutboxMessage).values(next_run_at=utcnow()))
    flush_outbox(services, webex, max_attempts=2)
    with db.engine.begin() as conn:
        conn.execute(update(OutboxMessage).values(next_run_at=utcnow()))
    del webex.send_reply  # Webex is back, but the row has used its attempts
    assert flush_outbox(services, webex, max_attempts=2) == 0
    assert rows(db)[0].attempts == 2 and webex.sent == []


def test_two_concurrent_flushers_never_send_a_row_twice(db, settings, webex):
    services = Services(db, settings)
    for n in range(40):
        add(db, f"ROOM-{n}", f"Ready {n}", f"ready:{n}")
    threads = [threading.Thread(target=flush_outbox, args=(services, webex)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = sorted(reply.markdown for _, reply, _ in webex.sent)
    assert sent == sorted(f"Ready {n}" for n in range(40))
