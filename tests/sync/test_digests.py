"""Daily digests: when they are due, what they say, and that each goes out once a day."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import update

from provisioning.leads.digests import build_digest, due_digests, run_digests
from store.models import DigestSubscription, Number, Operator
from tests.support.factories import e164s, make_service, make_tenant, make_upload
from tests.sync.helpers import outbox

MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def _subscribe(session, tenant, room_id="room-ops", at="09:00") -> DigestSubscription:
    operator = Operator(email=f"{room_id}@acme.example")
    session.add(operator)
    session.flush()
    subscription = DigestSubscription(room_id=room_id, tenant_id=tenant.id, operator_id=operator.id, time_of_day=at)
    session.add(subscription)
    session.flush()
    return subscription


def _inventory(session):
    """Acme with one service in each status, and another tenant that must not show up."""
    acme = make_tenant(session)
    ready = make_service(session, "roma-ready", customer="Pizzeria Roma S.p.A.")
    make_upload(session, ready, e164s(3))
    syncing = make_service(session, "roma-syncing", customer="Pizzeria Roma S.p.A.", location_id="L2")
    make_upload(session, syncing, e164s(4, start=300000000))
    failed = make_service(session, "milan|cc", customer="Bar Milano", location_id="L3",
                          mode="non-integrated")
    make_upload(session, failed, e164s(2, start=400000000))
    failed.sync_error = "gave up after 8 attempts: [503] Service Unavailable"
    make_service(session, "empty", customer="Bar Milano", location_id="L4")
    make_service(session, "no-consent", customer="Bar Milano", location_id="L5", consented=False)
    other = make_service(session, "secret-svc", tenant="Other SP", customer="Someone")
    make_upload(session, other, e164s(1, start=500000000))
    session.execute(update(Number).where(Number.service_id == ready.id).values(sync_state="live"))
    session.execute(update(Number).where(Number.e164 == e164s(1, start=300000000)[0]).values(sync_state="live"))
    session.execute(update(Number).where(Number.e164 == e164s(1, start=300000001)[0]).values(sync_state="pushed"))
    session.execute(update(Number).where(Number.service_id == failed.id).values(sync_state="failed"))
    session.flush()
    return acme


def test_digest_is_a_markdown_table_of_the_tenants_services_by_status(db):
    with db.sessions.begin() as session:
        acme = _inventory(session)
        text = build_digest(session, acme.id, MORNING)

    lines = text.splitlines()
    assert lines[0] == "**Daily digest: `Acme SP`** (2026-11-23 09:00 UTC)"
    assert "Sync Failed 1 · Syncing 1 · Pending Provisioning 1 · Pending Consent 1 · Ready 1" in lines
    table = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert table == [
        "| Status | Service | Customer | Pending | Pushed | Live | Failed |",
        "| Sync Failed | `milan\\|cc` | `Bar Milano` | 0 | 0 | 0 | 2 |",
        "| Syncing | `roma-syncing` | `Pizzeria Roma S.p.A.` | 2 | 1 | 1 | 0 |",
        "| Pending Provisioning | `empty` | `Bar Milano` | 0 | 0 | 0 | 0 |",
        "| Pending Consent | `no-consent` | `Bar Milano` | 0 | 0 | 0 | 0 |",
        "| Ready | `roma-ready` | `Pizzeria Roma S.p.A.` | 0 | 0 | 3 | 0 |",
    ]
    assert "- `milan|cc`: gave up after 8 attempts: [503] Service Unavailable" in lines
    assert "secret-svc" not in text


def test_digest_of_a_tenant_without_services(db):
    with db.sessions.begin() as session:
        tenant = make_tenant(session, "Empty SP")
        assert build_digest(session, tenant.id, MORNING).endswith("No services in this tenant yet.")


def test_a_big_tenant_digest_stays_within_the_webex_message_limit(db):
    with db.sessions.begin() as session:
        tenant = make_tenant(session)
        for i in range(80):
            make_service(session, f"service-with-a-long-name-{i:03d}", location_id=f"L{i}",
                         customer="A customer with a rather long registered company name S.p.A.")
        text = build_digest(session, tenant.id, MORNING)
    assert len(text.encode()) <= 7439
    assert "more services; send `leads` for the full list." in text


def test_due_at_the_time_of_day_once_per_day(db):
    with db.sessions.begin() as session:
        acme = make_tenant(session)
        _subscribe(session, acme, "room-9", "09:00")
        _subscribe(session, acme, "room-17", "17:30")

    def due_rooms(now):
        with db.sessions() as session:
            return [s.room_id for s in due_digests(session, now)]

    assert due_rooms(MORNING - timedelta(minutes=1)) == []
    assert due_rooms(MORNING) == ["room-9"]
    assert run_digests(db, MORNING) == 1
    assert run_digests(db, MORNING + timedelta(minutes=1)) == 0
    assert due_rooms(MORNING + timedelta(hours=9)) == ["room-17"]
    assert run_digests(db, MORNING + timedelta(hours=9)) == 1
    assert run_digests(db, MORNING + timedelta(days=1)) == 1

    messages = outbox(db)
    assert [(m.room_id, m.dedupe_key) for m in messages] == [
        ("room-9", f"digest:1:{date(2026, 11, 23)}"),
        ("room-17", f"digest:2:{date(2026, 11, 23)}"),
        ("room-9", f"digest:1:{date(2026, 11, 24)}"),
    ]
    assert all(m.markdown.startswith("**Daily digest: `Acme SP`**") and "UTC" in m.markdown for m in messages)


def test_a_late_scheduler_still_sends_todays_digest(db):
    with db.sessions.begin() as session:
        _subscribe(session, make_tenant(session), at="09:00")
    assert run_digests(db, MORNING + timedelta(hours=5)) == 1
    with db.sessions() as session:
        assert session.get(DigestSubscription, 1).last_sent_on == date(2026, 11, 23)


def test_two_schedulers_at_once_send_each_digest_once(db, db_url):
    import threading

    from store.db import connect

    with db.sessions.begin() as session:
        acme = make_tenant(session)
        for i in range(5):
            _subscribe(session, acme, f"room-{i}")
    barrier, sent = threading.Barrier(3), []

    def scheduler() -> None:
        own = connect(db_url, auto_upgrade=False)
        try:
            barrier.wait()
            sent.append(run_digests(own, MORNING))
        finally:
            own.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 5
    assert sorted(m.room_id for m in outbox(db)) == [f"room-{i}" for i in range(5)]
