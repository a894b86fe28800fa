"""Releasing numbers: submit, then the removal pass of the sync engine against a scripted
NumbersApi, on SQLite and PostgreSQL (SPEC §5.3)."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from provisioning import consent
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from provisioning.sync.port import ConsentMissing, RateLimited
from store.models import AuditEntry, Number, NumberHistory, SyncTask, utcnow
from tests.support.factories import T0, seed
from tests.support.fake_numbers_api import FakeNumbersApi
from tests.support.releases import milan, release
from tests.sync.helpers import number_states, outbox, status_of

SETTINGS = Settings(sync_batch_size=500, sync_poll_seconds=60, sync_max_attempts=4)


def sync(db, api, now=T0, worker="w1"):
    return run_due_sync(db, api, SETTINGS, worker_id=worker, now=now)


def live_service(db, numbers, **options):
    """A service whose numbers went live through the sync engine at T0."""
    api = FakeNumbersApi()
    service_id, upload_id = seed(db, numbers, **options)
    if options.get("mode") == "non-integrated":
        api.show("ORG-ROMA", "LOC-MILAN", numbers)
    sync(db, api)
    assert number_states(db) == {"live": len(numbers)}
    return service_id, api


def history(db):
    with db.sessions() as session:
        return {h.e164: h for h in session.scalars(select(NumberHistory))}


def removes_per_number(api) -> Counter:
    return Counter(n for call in api.remove_calls for n in call)


def test_pushed_numbers_are_removed_five_at_a_time_then_released_once_the_poll_stops_listing_them(db):
    numbers = milan(12)
    service_id, api = live_service(db, numbers)
    assert set(history(db)) == set(numbers) and {h.live_since for h in history(db).values()} == {T0}

    done = release(db, service_id, numbers)
    assert (done.released, done.removing, done.held) == (0, 12, None)
    assert str(status_of(db, service_id)) == "Removing"
    later = utcnow() + timedelta(minutes=1)
    report = sync(db, api, later)

    assert [len(call) for call in api.remove_calls] == [5, 5, 2]
    assert report.remove_requests == 3 and report.released == 12
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Number)) == 0
        assert session.scalar(select(SyncTask.state).where(SyncTask.upload_id == done.release_id)) == "done"
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "release.submit")) == \
            "ops@acme.example"
    assert {h.released_at for h in history(db).values()} == {later}
    assert [m.markdown for m in outbox(db)][-1] == "✅ `roma-cc`: 12 numbers released"
    for minute in (1, 2, 3):
        sync(db, api, later + timedelta(minutes=minute))
    assert max(removes_per_number(api).values()) == 1
    assert [m.dedupe_key for m in outbox(db)].count(f"released:{done.release_id}") == 1


def test_never_pushed_numbers_leave_at_once_without_webex(db):
    numbers = milan(7)
    service_id, _ = seed(db, numbers)  # submitted, not synced yet: pending
    api = FakeNumbersApi()
    done = release(db, service_id, numbers)
    assert (done.released, done.removing) == (7, 0)
    assert number_states(db) == {} and history(db) == {}
    sync(db, api, utcnow() + timedelta(minutes=1))
    assert api.remove_calls == [] and api.add_calls == []
    assert [m.markdown for m in outbox(db)] == ["✅ `roma-cc`: 7 numbers released"]


def test_a_number_webex_refuses_to_remove_goes_back_to_live_with_webex_reason(db):
    numbers = milan(5)
    service_id, api = live_service(db, numbers)
    api.main_numbers.add(numbers[2])

    release(db, service_id, numbers)
    sync(db, api, utcnow() + timedelta(minutes=1))

    assert [len(call) for call in api.remove_calls] == [5, 1, 1, 1, 1, 1]  # refused whole, then one by one
    with db.sessions() as session:
        kept = session.scalar(select(Number).where(Number.e164 == numbers[2]))
        assert kept.sync_state == "live" and kept.release_id is None
        assert "main number" in kept.sync_error
        assert session.scalar(select(func.count()).select_from(Number)) == 1
    texts = [m.markdown for m in outbox(db)]
    assert any(t.startswith("⚠️ `roma-cc`: Webex refused to remove") and "main number" in t for t in texts)
    assert texts[-1] == "✅ `roma-cc`: 4 numbers released"
    assert str(status_of(db, service_id)) == "Ready"
    assert history(db)[numbers[2]].released_at is None


def test_429_waits_for_retry_after_and_nothing_is_removed_twice(db):
    numbers = milan(10)
    service_id, api = live_service(db, numbers)
    api.remove_later = True  # Webex takes removes but lists the numbers a while longer
    done = release(db, service_id, numbers)
    api.fail_next("remove", RateLimited(30.0), times=1)
    first = utcnow() + timedelta(minutes=1)
    report = sync(db, api, first)
    assert report.retried == 1 and api.remove_calls == []
    with db.sessions() as session:
        task = session.scalar(select(SyncTask).where(SyncTask.upload_id == done.release_id))
        assert task.next_run_at >= first + timedelta(seconds=30)
    sync(db, api, first + timedelta(seconds=29))
    assert api.remove_calls == []
    sync(db, api, first + timedelta(seconds=40), worker="w2")  # another worker, as after a restart
    assert len(api.remove_calls) == 2 and number_states(db) == {"removed": 10}
    sync(db, api, first + timedelta(minutes=5), worker="w3")
    assert len(api.remove_calls) == 2 and number_states(db) == {"removed": 10}
    api.settle()
    sync(db, api, first + timedelta(minutes=10), worker="w1")
    assert number_states(db) == {} and max(removes_per_number(api).values()) == 1
    assert [m.markdown for m in outbox(db)][-1] == "✅ `roma-cc`: 10 numbers released"


def test_non_integrated_waits_until_the_customer_removed_the_numbers(db):
    numbers = milan(4)
    service_id, api = live_service(db, numbers, mode="non-integrated")
    done = release(db, service_id, numbers)
    assert done.removing == 4
    sync(db, api, utcnow() + timedelta(minutes=1))
    assert api.remove_calls == [] and number_states(db) == {"removing": 4}
    assert str(status_of(db, service_id)) == "Removing"
    api.hide("ORG-ROMA", "LOC-MILAN", numbers[:3])
    sync(db, api, utcnow() + timedelta(hours=2))
    assert number_states(db) == {"removing": 1}
    api.hide("ORG-ROMA", "LOC-MILAN", numbers[3:])
    sync(db, api, utcnow() + timedelta(hours=3))
    assert number_states(db) == {} and api.remove_calls == []
    assert [m.markdown for m in outbox(db)][-1] == "✅ `roma-cc`: 4 numbers released"


def test_a_number_whose_upload_a_worker_is_pushing_waits_for_that_worker(db):
    """Release while a worker holds the upload's sync task: its pending numbers may reach Webex,
    so they are removed (after the worker is done) rather than forgotten."""
    numbers = milan(3)
    service_id, upload_id = seed(db, numbers)
    with db.sessions.begin() as session:
        task = session.scalar(select(SyncTask).where(SyncTask.upload_id == upload_id))
        task.locked_by, task.locked_until = "pusher", utcnow() + timedelta(days=1)
    done = release(db, service_id, numbers)
    assert (done.released, done.removing) == (0, 3)
    api = FakeNumbersApi()
    api.show("ORG-ROMA", "LOC-MILAN", numbers)  # the pusher's add reached Webex
    sync(db, api, utcnow())
    assert api.remove_calls == [] and number_states(db) == {"removing": 3}
    with db.sessions.begin() as session:
        session.execute(SyncTask.__table__.update().where(SyncTask.upload_id == upload_id)
                        .values(locked_by=None, locked_until=None, state="done"))
    sync(db, api, utcnow() + timedelta(minutes=2))
    assert [len(c) for c in api.remove_calls] == [3] and number_states(db) == {}


def test_several_workers_release_together_and_send_each_number_once(db):
    import threading

    api = FakeNumbersApi()
    releases = []
    for i, name in enumerate(("one-cc", "two-cc", "three-cc")):
        numbers = milan(20, start=12000000 + 1000 * i)
        service_id, _ = seed(db, numbers, name=name)
        sync(db, api, worker=f"pre-{i}")
        releases.append((service_id, numbers))
    for service_id, numbers in releases:
        release(db, service_id, numbers)
    later = utcnow() + timedelta(minutes=1)
    errors = []

    def work(worker):
        try:
            for _ in range(3):
                sync(db, api, later, worker=worker)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(api.remove_calls) == 12 and max(removes_per_number(api).values()) == 1
    assert number_states(db) == {}
    assert sorted(m.markdown for m in outbox(db) if m.dedupe_key.startswith("released:")) == [
        "✅ `one-cc`: 20 numbers released", "✅ `three-cc`: 20 numbers released", "✅ `two-cc`: 20 numbers released"]


def test_a_location_whose_pstn_webex_forbids_gets_no_delete_and_the_release_fails_naming_the_type(db):
    numbers = milan(3)
    service_id, api = live_service(db, numbers)
    api.pstn[("ORG-ROMA", "LOC-MILAN")] = "INTEGRATED_CCP"  # changed since the numbers went live
    done = release(db, service_id, numbers)

    sync(db, api, utcnow() + timedelta(minutes=1), worker="w2")  # a fresh engine: no cached PSTN type

    assert api.remove_calls == [] and number_states(db) == {"live": 3}
    failed = outbox(db)[-1].markdown
    assert f"release #{done.release_id} failed" in failed and "INTEGRATED_CCP" in failed
    with db.sessions() as session:
        assert session.scalar(select(SyncTask.state).where(SyncTask.upload_id == done.release_id)) == "failed"
        assert {n.sync_error for n in session.scalars(select(Number))} != {None}


def test_a_release_while_pending_consent_is_queued_says_so_and_resumes_when_consent_returns(db):
    numbers = milan(3)
    service_id, api = live_service(db, numbers)
    with db.sessions.begin() as session:
        consent.track(session, "ORG-ROMA", T0)  # Webex gives no org token for the org now
    done = release(db, service_id, numbers)
    assert done.held and "Pending Consent" in done.held

    later = utcnow() + timedelta(minutes=1)
    report = run_due_sync(db, api, SETTINGS, worker_id="w1", now=later, live_consent=True)
    assert report.paused == 1 and api.remove_calls == [] and number_states(db) == {"removing": 3}

    with db.sessions.begin() as session:
        consent.granted(session, "ORG-ROMA", later)
    run_due_sync(db, api, SETTINGS, worker_id="w1", now=later + timedelta(minutes=2), live_consent=True)
    assert [len(call) for call in api.remove_calls] == [3] and number_states(db) == {}


def test_a_delete_refused_with_consent_gone_pauses_the_release_as_pending_consent(db):
    numbers = milan(7)
    service_id, api = live_service(db, numbers)
    with db.sessions.begin() as session:
        consent.granted(session, "ORG-ROMA", T0)
    done = release(db, service_id, numbers)
    api.fail_next("remove", ConsentMissing("ORG-ROMA", "[403] refused (the organization token was refused)"))
    later = utcnow() + timedelta(minutes=1)

    report = run_due_sync(db, api, SETTINGS, worker_id="w1", now=later, live_consent=True)

    assert report.paused == 1 and report.failed == 0 and number_states(db) == {"removing": 7}
    with db.sessions() as session:
        assert consent.awaiting(session, ["ORG-ROMA"]) == {"ORG-ROMA"}  # status shows Pending Consent
        assert session.scalar(select(SyncTask.state).where(SyncTask.upload_id == done.release_id)) == "pending"
        consent.granted(session, "ORG-ROMA", later + timedelta(minutes=1))
        session.commit()
    run_due_sync(db, api, SETTINGS, worker_id="w1", now=later + timedelta(minutes=3), live_consent=True)
    assert number_states(db) == {} and max(removes_per_number(api).values()) == 1
