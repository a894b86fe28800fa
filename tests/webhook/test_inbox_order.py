"""The inbox's ordering rules: a space's events one at a time in arrival order, spaces in parallel,
one person one event in flight, all of it held across several inboxes (as in several processes)."""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select, update

from bot.envelopes import from_webhook
from bot.events import Inbox, claim, finish, record
from handlers.base import Reply
from store.models import WebhookEvent, utcnow
from tests.support.live import ADMIN, OPERATOR
from tests.webhook.conftest import envelope, wait_until

LEASE = timedelta(seconds=60)


def record_in(db, event_id: str, room: str, person: str = "PERSON-1") -> None:
    assert record(db, from_webhook(envelope(event_id, roomId=room, personId=person)))


def test_a_space_waits_for_its_earlier_event_while_other_spaces_go_ahead(db):
    record_in(db, "A1", "ROOM-A", "P1")
    record_in(db, "A2", "ROOM-A", "P2")
    record_in(db, "B1", "ROOM-B", "P3")
    first = claim(db, "w1", LEASE)
    assert first.id == "A1"
    assert claim(db, "w2", LEASE).id == "B1"  # A2 waits behind A1, another space does not
    assert claim(db, "w3", LEASE) is None
    finish(db, first, "w1")
    assert claim(db, "w3", LEASE).id == "A2"


def test_an_event_waiting_for_its_retry_holds_back_its_space_only(db):
    record_in(db, "A1", "ROOM-A", "P1")
    record_in(db, "A2", "ROOM-A", "P2")
    record_in(db, "B1", "ROOM-B", "P3")
    first = claim(db, "w1", LEASE)
    finish(db, first, "w1", error="Timeout", retry_at=utcnow() + timedelta(minutes=5))
    assert claim(db, "w1", LEASE).id == "B1"
    assert claim(db, "w1", LEASE) is None  # A2 must not overtake A1
    with db.engine.begin() as conn:
        conn.execute(update(WebhookEvent).where(WebhookEvent.id == "A1").values(next_run_at=utcnow()))
    assert claim(db, "w1", LEASE).id == "A1"


def test_one_person_has_one_event_in_flight(db):
    record_in(db, "P-ROOM-1", "ROOM-1", "BUSY-OPERATOR")
    record_in(db, "P-ROOM-2", "ROOM-2", "BUSY-OPERATOR")
    record_in(db, "OTHER", "ROOM-3", "SOMEONE-ELSE")
    held = claim(db, "w1", LEASE)
    assert held.id == "P-ROOM-1"
    assert claim(db, "w2", LEASE).id == "OTHER"
    assert claim(db, "w3", LEASE) is None
    finish(db, held, "w1")
    assert claim(db, "w3", LEASE).id == "P-ROOM-2"


def test_a_crashed_holder_lets_its_space_continue_after_the_lease(db):
    record_in(db, "A1", "ROOM-A")
    record_in(db, "A2", "ROOM-A")
    assert claim(db, "crashed", LEASE).id == "A1"
    assert claim(db, "w2", LEASE) is None
    with db.engine.begin() as conn:
        conn.execute(update(WebhookEvent).where(WebhookEvent.id == "A1")
                     .values(locked_until=utcnow() - timedelta(seconds=1)))
    retaken = claim(db, "w2", LEASE)
    assert (retaken.id, retaken.attempts) == ("A1", 2)  # the same event again, never A2 first


def test_the_same_id_as_a_message_and_a_card_action_are_two_events(db):
    assert record(db, from_webhook(envelope("SAME-ID")))
    assert record(db, from_webhook(envelope("SAME-ID", resource="attachmentActions")))
    assert not record(db, from_webhook(envelope("SAME-ID")))
    with db.sessions() as session:
        assert sorted(session.scalars(select(WebhookEvent.resource))) == ["attachmentActions", "messages"]


def test_many_workers_in_several_inboxes_keep_every_space_in_order(db):
    """Three inboxes (as three processes) with three threads each: no two events of a space
    overlap, each space's events run in the order recorded, every event runs once."""
    rooms, per_room = 5, 8
    started: dict[str, list[int]] = defaultdict(list)
    in_flight: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    lock = threading.Lock()

    def process(body: dict) -> None:
        room, number = body["data"]["roomId"], int(body["data"]["id"].rsplit("-", 1)[1])
        with lock:
            in_flight[room] += 1
            if in_flight[room] > 1:
                overlaps.append(room)
            started[room].append(number)
        threading.Event().wait(0.002)  # let other workers try to overlap
        with lock:
            in_flight[room] -= 1

    for number in range(per_room):
        for room in range(rooms):
            record_in(db, f"R{room}-{number}", f"ROOM-{room}", f"PERSON-{number}")
    inboxes = [Inbox(db, process, threads=3, poll_seconds=0.02) for _ in range(3)]
    for inbox in inboxes:
        inbox.start()
    try:
        assert wait_until(lambda: sum(len(v) for v in started.values()) == rooms * per_room, timeout=60)
    finally:
        for inbox in inboxes:
            inbox.stop()
    assert overlaps == []
    assert dict(started) == {f"ROOM-{room}": list(range(per_room)) for room in range(rooms)}


def test_a_long_import_in_one_space_does_not_hold_up_another(make_live):
    """A handler stuck in one space (and a second event of its operator queued in another space)
    leaves workers free for everyone else."""
    release = threading.Event()
    stuck = threading.Event()

    def dispatch(services, request):
        if request.text == "import slowly":
            stuck.set()
            release.wait(60)
        return Reply(f"done: {request.text}")

    live = make_live(dispatch=dispatch)
    fake = live.fake
    busy, busy_too, other = (fake.add_room(name, "direct") for name in ("busy", "busy too", "other"))
    slow = fake.user_message(OPERATOR, busy, "import slowly")
    assert [r.status_code for r in fake.deliver_message(slow)] == [202]
    queued = fake.user_message(OPERATOR, busy, "status")  # behind the import, in its space
    assert [r.status_code for r in fake.deliver_message(queued)] == [202]
    second = fake.user_message(OPERATOR, busy_too, "import slowly")  # the same operator elsewhere
    assert [r.status_code for r in fake.deliver_message(second)] == [202]
    try:
        assert stuck.wait(30)
        [reply] = live.say(ADMIN, other, "help")  # answered while the import is still running
        assert reply["markdown"] == "done: help"
        assert live.event_state(queued["id"]) == "pending" and live.event_state(second["id"]) == "pending"
    finally:
        release.set()
    assert live.wait_processed(queued["id"]) == "done" and live.wait_processed(second["id"]) == "done"
    assert [m["markdown"] for m in fake.bot_messages(busy)] == ["done: import slowly", "done: status"]
