"""The sync engine against a scripted in-memory NumbersApi, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from provisioning.backoff import Backoff
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from provisioning.sync.port import PermanentApiError, RateLimited, TransientApiError
from tests.support.factories import T0, e164s, seed
from tests.support.fake_numbers_api import FakeNumbersApi, SimulatedCrash
from tests.sync.helpers import errors_of, number_states, outbox, status_of, task_of, upload

SETTINGS = Settings(sync_batch_size=500, sync_poll_seconds=60, sync_max_attempts=4)


def sync(db, api, now=T0, worker="w1", settings=SETTINGS, **options):
    return run_due_sync(db, api, settings, worker_id=worker, now=now, **options)


def test_integrated_upload_posts_ceil_n_over_batch_and_is_ready_once(db):
    numbers = e164s(1200)
    service_id, upload_id = seed(db, numbers)
    api = FakeNumbersApi()

    report = sync(db, api)

    assert [len(c.numbers) for c in api.add_calls] == [500, 500, 200]
    assert {(c.org_id, c.location_id, c.usage) for c in api.add_calls} == {("ORG-ROMA", "LOC-MILAN", "SERVICE")}
    assert report.add_requests == 3 and report.live == 1200 and report.finished == 1
    assert number_states(db) == {"live": 1200}
    assert str(status_of(db, service_id)) == "Ready"
    assert task_of(db, upload_id).state == "done"
    assert upload(db, upload_id).ready_notified_at is not None
    for later in (1, 2, 3):
        sync(db, api, T0 + timedelta(minutes=later))
    assert len(api.add_calls) == 3
    messages = outbox(db)
    assert [(m.room_id, m.markdown, m.dedupe_key) for m in messages] == [
        ("room-ops", "✅ `roma-cc` is Ready: 1,200 numbers live in Webex", f"ready:{upload_id}")
    ]


def test_user_numbers_use_usage_none_and_service_numbers_service(db):
    seed(db, e164s(3), number_type="user")
    seed(db, e164s(2, start=50), number_type="service", name="svc-2", location_id="LOC-2")
    api = FakeNumbersApi()
    sync(db, api)
    assert sorted((c.location_id, c.usage) for c in api.add_calls) == [("LOC-2", "SERVICE"), ("LOC-MILAN", "NONE")]


def test_pushed_numbers_wait_until_webex_shows_them_active(db):
    service_id, upload_id = seed(db, e164s(10))
    api = FakeNumbersApi(activate_on_add=False)

    sync(db, api)
    assert number_states(db) == {"pushed": 10}
    assert str(status_of(db, service_id)) == "Syncing"
    assert task_of(db, upload_id).next_run_at == T0 + timedelta(seconds=60)

    api.show("ORG-ROMA", "LOC-MILAN", e164s(10))
    sync(db, api, T0 + timedelta(seconds=60))
    assert number_states(db) == {"live": 10}
    assert len(api.add_calls) == 1
    assert len(outbox(db)) == 1


def test_non_integrated_never_pushes_and_is_ready_when_the_customer_adds_them(db):
    numbers = e164s(20)
    service_id, upload_id = seed(db, numbers, mode="non-integrated")
    api = FakeNumbersApi()

    sync(db, api)
    sync(db, api, T0 + timedelta(seconds=60))
    assert api.add_calls == [] and api.list_calls == 2
    assert str(status_of(db, service_id)) == "Syncing"
    assert outbox(db) == []

    api.show("ORG-ROMA", "LOC-MILAN", numbers[:15])
    api.show("ORG-ROMA", "LOC-MILAN", numbers[15:], state="INACTIVE")
    sync(db, api, T0 + timedelta(seconds=120))
    assert number_states(db) == {"live": 15, "pending": 5}
    assert str(status_of(db, service_id)) == "Syncing"

    api.show("ORG-ROMA", "LOC-MILAN", numbers[15:])
    sync(db, api, T0 + timedelta(seconds=180))
    assert str(status_of(db, service_id)) == "Ready"
    assert [m.markdown for m in outbox(db)] == ["✅ `roma-cc` is Ready: 20 numbers live in Webex"]
    assert api.add_calls == []


def test_refused_numbers_fail_with_webex_message_and_the_rest_go_live(db):
    numbers = e164s(6)
    service_id, upload_id = seed(db, numbers)
    api = FakeNumbersApi()
    api.refusals = {numbers[1]: "Number is reserved.", numbers[4]: "Number is reserved."}

    report = sync(db, api)

    assert report.refused == 2
    assert number_states(db) == {"live": 4, "failed": 2}
    assert errors_of(db) == {numbers[1]: "Number is reserved.", numbers[4]: "Number is reserved."}
    status = status_of(db, service_id)
    assert status.label == "Sync Failed"
    assert status.reason == f"2 numbers were refused by Webex, e.g. {numbers[1]}: Number is reserved."
    task = task_of(db, upload_id)
    assert task.state == "failed" and task.last_error == status.reason
    [notice] = outbox(db)
    assert notice.room_id == "room-ops" and notice.dedupe_key == f"sync-failed:{upload_id}"
    assert "roma-cc" in notice.markdown and status.reason in notice.markdown
    assert "2 of 6 numbers" in notice.markdown


def test_already_exists_in_this_location_counts_as_added(db):
    numbers = e164s(4)
    seed(db, numbers)
    api = FakeNumbersApi()
    api.show("ORG-ROMA", "LOC-MILAN", numbers[:2])

    sync(db, api)

    assert number_states(db) == {"live": 4}
    assert len(outbox(db)) == 1


def test_already_exists_elsewhere_in_the_org_is_a_failure(db):
    numbers = e164s(3)
    seed(db, numbers)
    api = FakeNumbersApi()
    api.show("ORG-ROMA", "LOC-ROME", [numbers[0]])

    sync(db, api)

    assert number_states(db) == {"live": 2, "failed": 1}
    assert errors_of(db) == {numbers[0]: f"Phone number {numbers[0]} already exists in the organization."}


def test_rate_limit_waits_retry_after_then_resumes(db):
    service_id, upload_id = seed(db, e164s(1200))
    api = FakeNumbersApi()
    api.fail_next("add", RateLimited(30))

    report = sync(db, api)
    task = task_of(db, upload_id)
    assert report.retried == 1 and task.attempts == 1 and "rate limited" in task.last_error
    assert T0 + timedelta(seconds=30) <= task.next_run_at <= T0 + timedelta(seconds=33)
    assert task.locked_by is None

    assert sync(db, api, T0 + timedelta(seconds=29)).claimed == 0
    sync(db, api, T0 + timedelta(seconds=34))
    assert len(api.add_calls) == 3
    assert str(status_of(db, service_id)) == "Ready"


def test_rate_limit_in_the_middle_keeps_acknowledged_batches(db):
    service_id, upload_id = seed(db, e164s(1200))
    api = FakeNumbersApi()
    real_add = api.add_numbers
    calls = []

    def add_then_throttle(*args):
        calls.append(args)
        if len(calls) == 2:
            raise RateLimited(5)
        return real_add(*args)

    api.add_numbers = add_then_throttle
    sync(db, api)
    assert number_states(db) == {"pushed": 500, "pending": 700}
    sync(db, api, T0 + timedelta(seconds=10))
    assert api.post_counts().most_common(1)[0][1] == 1
    assert number_states(db) == {"live": 1200}


def test_transient_errors_back_off_exponentially_with_jitter(db):
    service_id, upload_id = seed(db, e164s(10))
    api = FakeNumbersApi()
    api.fail_next("add", TransientApiError("[503] Service Unavailable"), times=3)
    delays, now = [], T0
    for _ in range(3):
        sync(db, api, now, backoff=Backoff(base=10, cap=900))
        task = task_of(db, upload_id)
        delays.append((task.next_run_at - now).total_seconds())
        now = task.next_run_at
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20 and 20 <= delays[2] <= 40
    assert task_of(db, upload_id).attempts == 3
    sync(db, api, now)
    assert str(status_of(db, service_id)) == "Ready"
    assert task_of(db, upload_id).attempts == 0


def test_giving_up_after_max_attempts_fails_numbers_and_tells_the_operator(db):
    service_id, upload_id = seed(db, e164s(10), room_id="room-42")
    api = FakeNumbersApi()
    api.fail_next("add", TransientApiError("[503] Service Unavailable"), times=10)
    now = T0
    for _ in range(SETTINGS.sync_max_attempts):
        sync(db, api, now)
        now = task_of(db, upload_id).next_run_at + timedelta(seconds=1)

    task = task_of(db, upload_id)
    assert task.state == "failed" and task.finished_at is not None
    assert number_states(db) == {"failed": 10}
    status = status_of(db, service_id)
    assert status.label == "Sync Failed"
    assert status.reason == "gave up after 4 attempts: [503] Service Unavailable"
    [notice] = outbox(db)
    assert notice.room_id == "room-42" and status.reason in notice.markdown
    assert sync(db, api, now + timedelta(days=1)).claimed == 0


def test_permanent_error_fails_at_once(db):
    service_id, upload_id = seed(db, e164s(10))
    api = FakeNumbersApi()
    api.fail_next("list", PermanentApiError("[404] Location not found"))
    sync(db, api)
    assert status_of(db, service_id).reason == "[404] Location not found"
    assert task_of(db, upload_id).state == "failed"
    assert len(outbox(db)) == 1


def test_killed_worker_resumes_after_lease_without_reposting(db):
    numbers = e164s(1200)
    service_id, upload_id = seed(db, numbers)
    api = FakeNumbersApi()
    api.crash_on_add(2)

    with pytest.raises(SimulatedCrash):
        sync(db, api, worker="w1")
    assert number_states(db) == {"pushed": 500, "pending": 700}
    assert task_of(db, upload_id).locked_by == "w1"

    assert sync(db, api, T0 + timedelta(minutes=1), worker="w2").claimed == 0
    report = sync(db, api, T0 + timedelta(minutes=6), worker="w2")

    assert report.claimed == 1 and report.add_requests == 2
    assert [len(c.numbers) for c in api.add_calls] == [500, 500, 200]
    assert set(api.post_counts().values()) == {1}
    assert number_states(db) == {"live": 1200}
    assert len(outbox(db)) == 1


def test_crash_between_webex_ack_and_commit_repost_is_harmless(db):
    service_id, upload_id = seed(db, e164s(1200))
    api = FakeNumbersApi()
    api.crash_on_add(2, after_accept=True)

    with pytest.raises(SimulatedCrash):
        sync(db, api, worker="w1")
    sync(db, api, T0 + timedelta(minutes=6), worker="w2")

    assert len(api.add_calls) == 4
    assert max(api.post_counts().values()) == 2
    assert number_states(db) == {"live": 1200}
    assert [m.dedupe_key for m in outbox(db)] == [f"ready:{upload_id}"]


def test_ready_waits_for_every_upload_of_the_service_then_tells_each_once(db):
    from store.models import Service
    from tests.support.factories import make_upload

    first, second = e164s(5), e164s(5, start=300000000)
    service_id, first_upload = seed(db, first, mode="non-integrated")
    with db.sessions.begin() as session:
        make_upload(session, session.get(Service, service_id), second, room_id="room-b")
    api = FakeNumbersApi()
    api.show("ORG-ROMA", "LOC-MILAN", first)

    sync(db, api)
    assert task_of(db, first_upload).state == "done"
    assert outbox(db) == []

    api.show("ORG-ROMA", "LOC-MILAN", second)
    sync(db, api, T0 + timedelta(minutes=1))
    sync(db, api, T0 + timedelta(minutes=2))
    assert sorted((m.room_id, m.markdown) for m in outbox(db)) == [
        ("room-b", "✅ `roma-cc` is Ready: 10 numbers live in Webex"),
        ("room-ops", "✅ `roma-cc` is Ready: 10 numbers live in Webex"),
    ]


def test_removing_service_is_not_synced(db):
    service_id, upload_id = seed(db, e164s(3), removing=True)
    api = FakeNumbersApi()
    sync(db, api)
    assert api.add_calls == [] and api.list_calls == 0
    assert task_of(db, upload_id).state == "cancelled"
    assert number_states(db) == {"pending": 3}


def test_waiting_uploads_of_one_location_share_one_listing_per_pass(db):
    from store.models import Service
    from tests.support.factories import make_upload

    service_id, _ = seed(db, e164s(5), mode="non-integrated")
    with db.sessions.begin() as session:
        for i in range(3):
            make_upload(session, session.get(Service, service_id), e164s(5, start=300000000 + i * 10))
    api = FakeNumbersApi()
    report = sync(db, api)
    assert report.claimed == 4 and api.list_calls == 1
    sync(db, api, T0 + timedelta(seconds=60))
    assert api.list_calls == 2


def test_next_due_counts_another_workers_lease(db):
    service_id, upload_id = seed(db, e164s(1200))
    api = FakeNumbersApi()
    api.crash_on_add(2)
    with pytest.raises(SimulatedCrash):
        sync(db, api, worker="w1")
    report = sync(db, api, T0 + timedelta(seconds=10), worker="w2")
    assert report.claimed == 0
    assert report.next_due_at == T0 + timedelta(minutes=5)


def test_an_unexpected_error_is_retried_with_a_short_description(db):
    service_id, upload_id = seed(db, e164s(3))
    api = FakeNumbersApi()
    api.fail_next("list", RuntimeError("bug on line one\nwith a second line"))
    report = sync(db, api)
    assert report.retried == 1
    assert task_of(db, upload_id).last_error == "RuntimeError: bug on line one"
    assert number_states(db) == {"pushed": 3}
