"""End to end: the sync engine through bot/telephony.py over real HTTP to the fake Webex."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from bot.bootstrap import Wiring
from bot.scheduler import start_scheduler
from bot.telephony import WebexNumbersApi
from provisioning.services import Services
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from store.db import connect
from tests.support.factories import T0, e164s, make_service, make_upload, seed
from tests.support.fake_numbers_api import SimulatedCrash
from tests.support.live import fast_client, numbers_adapter
from tests.sync.helpers import errors_of, number_states, outbox, status_of, task_of

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
ADD_PATH = r"/v1/telephony/config/locations/[^/]+/numbers$"
LIST_PATH = r"/v1/telephony/config/numbers$"
SETTINGS = Settings(sync_batch_size=500, sync_poll_seconds=60, sync_max_attempts=5)


def adapter(fake, **options) -> WebexNumbersApi:
    return numbers_adapter(fake, **options)


def sync(db, api, now=T0, worker="w1", settings=SETTINGS):
    return run_due_sync(db, api, settings, worker_id=worker, now=now)


def posts_per_number(fake) -> Counter:
    return Counter(n for request in fake.add_requests for n in request.phone_numbers)


def test_integrated_1200_numbers_three_add_requests_and_ready_once(db, fake_webex):
    numbers = e164s(1200)
    service_id, upload_id = seed(db, numbers, org_id=ORG, location_id=LOC)
    api = adapter(fake_webex, page_size=500)

    sync(db, api)
    for minute in (1, 2, 3):
        sync(db, api, T0 + timedelta(minutes=minute))

    adds = fake_webex.add_requests
    assert [len(a.phone_numbers) for a in adds] == [500, 500, 200]
    assert {(a.org_id, a.location_id, a.number_type, a.number_usage_type, a.state) for a in adds} == {
        (ORG, LOC, "DID", "SERVICE", "ACTIVE")}
    assert set(fake_webex.numbers_of(ORG, LOC).values()) == {"ACTIVE"}
    listed = [r for r in fake_webex.requests if r.method == "GET" and r.path.endswith("/telephony/config/numbers")]
    assert {(r.query["orgId"], r.query["locationId"]) for r in listed} == {(ORG, LOC)}
    assert len(listed) == 3  # one poll of 1,200 numbers in pages of 500
    assert number_states(db) == {"live": 1200}
    assert str(status_of(db, service_id)) == "Ready"
    [ready] = outbox(db)
    assert ready.markdown == "✅ `roma-cc` is Ready: 1,200 numbers live in Webex"
    assert ready.room_id == "room-ops" and ready.dedupe_key == f"ready:{upload_id}"


def test_non_integrated_stays_syncing_until_the_customer_adds_the_numbers(db, fake_webex):
    numbers = e164s(40)
    service_id, _ = seed(db, numbers, mode="non-integrated", org_id=ORG, location_id=LOC)
    api = adapter(fake_webex)

    sync(db, api)
    sync(db, api, T0 + timedelta(minutes=1))
    assert str(status_of(db, service_id)) == "Syncing"
    assert fake_webex.add_requests == [] and outbox(db) == []

    fake_webex.add_live_numbers(ORG, LOC, numbers)
    sync(db, api, T0 + timedelta(minutes=2))
    assert str(status_of(db, service_id)) == "Ready"
    assert [m.markdown for m in outbox(db)] == ["✅ `roma-cc` is Ready: 40 numbers live in Webex"]
    assert not [r for r in fake_webex.requests if r.method == "POST"]


def test_429_and_5xx_are_retried_and_nothing_is_posted_twice(db, fake_webex):
    service_id, upload_id = seed(db, e164s(1200), org_id=ORG, location_id=LOC)
    api = adapter(fake_webex)
    fake_webex.fail_next("POST", ADD_PATH, 429, headers={"Retry-After": "7"})
    fake_webex.fail_next("POST", ADD_PATH, 503)
    fake_webex.fail_next("GET", LIST_PATH, 502)

    sync(db, api)
    task = task_of(db, upload_id)
    assert "429" in task.last_error and task.attempts == 1
    assert T0 + timedelta(seconds=7) <= task.next_run_at <= T0 + timedelta(seconds=8)
    assert sync(db, api, T0 + timedelta(seconds=6)).claimed == 0

    now = task.next_run_at
    sync(db, api, now)
    task = task_of(db, upload_id)
    assert "[503]" in task.last_error and task.attempts == 2
    sync(db, api, task.next_run_at)
    task = task_of(db, upload_id)
    assert "[502]" in task.last_error and number_states(db) == {"pushed": 1200}
    sync(db, api, task.next_run_at)

    assert str(status_of(db, service_id)) == "Ready"
    assert len(fake_webex.add_requests) == 3
    assert set(posts_per_number(fake_webex).values()) == {1}
    assert len([r for r in fake_webex.requests if r.method == "POST"]) == 5
    assert len(outbox(db)) == 1


def test_permanent_failure_is_sync_failed_with_the_reason_and_the_operator_is_told(db, fake_webex):
    service_id, upload_id = seed(db, e164s(10), org_id=ORG, location_id=LOC, room_id="room-7")
    fake_webex.fail_next("POST", ADD_PATH, 404, body={"message": "Location not found."})

    sync(db, adapter(fake_webex))

    status = status_of(db, service_id)
    assert (status.label, status.reason) == ("Sync Failed", "[404] Location not found.")
    assert number_states(db) == {"failed": 10}
    [notice] = outbox(db)
    assert notice.room_id == "room-7" and "[404] Location not found." in notice.markdown


def test_retries_run_out_into_sync_failed(db, fake_webex):
    service_id, upload_id = seed(db, e164s(10), org_id=ORG, location_id=LOC)
    fake_webex.fail_next("POST", ADD_PATH, 500, times=SETTINGS.sync_max_attempts)
    api, now = adapter(fake_webex), T0
    for _ in range(SETTINGS.sync_max_attempts):
        sync(db, api, now)
        now = task_of(db, upload_id).next_run_at
    assert status_of(db, service_id).reason == "gave up after 5 attempts: [500] Internal Server Error"
    assert "gave up after 5 attempts" in outbox(db)[0].markdown


def test_refused_numbers_carry_the_webex_message(db, fake_webex):
    numbers = e164s(5)
    service_id, _ = seed(db, numbers, org_id=ORG, location_id=LOC)
    fake_webex.refuse_numbers({numbers[2]: "Number is reserved for another carrier."})

    sync(db, adapter(fake_webex))

    assert number_states(db) == {"live": 4, "failed": 1}
    assert errors_of(db) == {numbers[2]: "Number is reserved for another carrier. (Webex error 9678)"}
    assert status_of(db, service_id).label == "Sync Failed"


class _Dies:
    """Wraps the adapter: the process is killed just before its `n`th add call."""

    def __init__(self, inner: WebexNumbersApi, n: int) -> None:
        self.inner, self.n, self.calls = inner, n, 0

    def add_numbers(self, *args):
        self.calls += 1
        if self.calls == self.n:
            raise SimulatedCrash("SIGKILL")
        return self.inner.add_numbers(*args)

    def list_numbers(self, *args):
        return self.inner.list_numbers(*args)

    def pstn_connection_type(self, *args):
        return self.inner.pstn_connection_type(*args)


def test_worker_killed_mid_sync_is_resumed_by_another_without_reposting(db, db_url, fake_webex):
    service_id, upload_id = seed(db, e164s(1200), org_id=ORG, location_id=LOC)
    with pytest.raises(SimulatedCrash):
        sync(db, _Dies(adapter(fake_webex), 2), worker="first")
    assert len(fake_webex.add_requests) == 1

    restarted = connect(db_url, auto_upgrade=False)
    try:
        assert sync(restarted, adapter(fake_webex), T0 + timedelta(minutes=2), worker="second").claimed == 0
        sync(restarted, adapter(fake_webex), T0 + timedelta(minutes=6), worker="second")
    finally:
        restarted.dispose()

    assert [len(a.phone_numbers) for a in fake_webex.add_requests] == [500, 500, 200]
    assert set(posts_per_number(fake_webex).values()) == {1}
    assert str(status_of(db, service_id)) == "Ready" and len(outbox(db)) == 1


def test_two_workers_against_one_database_never_double_post(db, db_url, fake_webex):
    with db.sessions.begin() as session:
        for i in range(4):
            service = make_service(session, f"svc-{i}", org_id=ORG, location_id=f"LOC-{i}")
            make_upload(session, service, e164s(300, start=100000000 + i * 1_000_000), room_id=f"room-{i}")
    settings = Settings(sync_batch_size=100, sync_poll_seconds=60)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        own, api = connect(db_url, auto_upgrade=False), adapter(fake_webex)
        try:
            barrier.wait()
            while run_due_sync(own, api, settings, worker_id=name, now=T0, max_tasks=1).claimed:
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    counts = posts_per_number(fake_webex)
    assert len(counts) == 1200 and set(counts.values()) == {1}
    assert len(fake_webex.add_requests) == 12
    assert number_states(db) == {"live": 1200}
    assert len(outbox(db)) == 4


def test_scheduler_syncs_and_the_ready_notice_reaches_the_room(db, fake_webex):
    room = fake_webex.add_room("Roma ops", "group")
    seed(db, e164s(50), org_id=ORG, location_id=LOC, room_id=room)
    wiring = Wiring(Services(db=db, settings=SETTINGS), fast_client(fake_webex), adapter(fake_webex))
    scheduler = start_scheduler(wiring, outbox_seconds=0.1)
    try:
        for _ in range(200):
            if fake_webex.bot_messages(room):
                break
            threading.Event().wait(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert [m["markdown"] for m in fake_webex.bot_messages(room)] == [
        "✅ `roma-cc` is Ready: 50 numbers live in Webex"]
    assert len(fake_webex.add_requests) == 1
