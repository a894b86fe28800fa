"""The PSTN guard and the number type in the sync engine, against the scripted NumbersApi, on both databases."""
from __future__ import annotations

from datetime import timedelta

import pytest

from provisioning.settings import Settings
from provisioning.sync.engine import SyncEngine
from provisioning.sync.port import TransientApiError
from provisioning.sync.pstn import ALLOWED, PstnGuard
from tests.support.factories import T0, e164s, seed
from tests.support.fake_numbers_api import FakeNumbersApi
from tests.sync.helpers import number_states, outbox, status_of, task_of

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
SETTINGS = Settings(sync_batch_size=500, sync_poll_seconds=60, sync_max_attempts=4)


def engine(db, api) -> SyncEngine:
    return SyncEngine(db, api, SETTINGS, worker_id="w1", live_consent=False)


@pytest.mark.parametrize("kind", ["INTEGRATED_CCP", "CISCO_PSTN", "SOMETHING_NEW"])
def test_a_location_without_an_allowed_pstn_gets_nothing_and_fails_naming_the_type(db, kind):
    service_id, upload_id = seed(db, e164s(3))
    api = FakeNumbersApi()
    api.pstn[(ORG, LOC)] = kind

    report = engine(db, api).run_due(T0)

    assert api.add_calls == [] and report.failed == 1
    assert number_states(db) == {"failed": 3}
    reason = status_of(db, service_id).reason
    assert f"PSTN connection type {kind}" in reason and "nothing was pushed" in reason
    assert kind in outbox(db)[-1].markdown


@pytest.mark.parametrize("kind", ALLOWED)
def test_local_gateway_and_non_integrated_ccp_are_pushed_to(db, kind):
    seed(db, e164s(3))
    api = FakeNumbersApi()
    api.pstn[(ORG, LOC)] = kind
    engine(db, api).run_due(T0)
    assert len(api.add_calls) == 1 and number_states(db) == {"live": 3}


def test_a_pstn_lookup_that_fails_is_retried_and_nothing_is_pushed_blind(db):
    _, upload_id = seed(db, e164s(3))
    api = FakeNumbersApi()
    api.fail_next("pstn", TransientApiError("[503] Service Unavailable"))
    sync = engine(db, api)

    report = sync.run_due(T0)

    assert api.add_calls == [] and report.retried == 1
    assert task_of(db, upload_id).last_error == "[503] Service Unavailable"
    sync.run_due(T0 + timedelta(minutes=5))
    assert number_states(db) == {"live": 3}


def test_the_pstn_type_is_read_once_an_hour_and_not_for_a_poll(db):
    seed(db, e164s(3))
    seed(db, e164s(3, start=300000000), name="roma-2")
    api = FakeNumbersApi(activate_on_add=False)
    sync = engine(db, api)
    sync.run_due(T0)
    sync.run_due(T0 + timedelta(minutes=2))  # polls only: nothing pending
    assert api.pstn_calls == 1 and len(api.add_calls) == 2


def test_the_guard_forgets_after_its_time():
    clock = [0.0]
    api = FakeNumbersApi()
    guard = PstnGuard(ttl=3600, clock=lambda: clock[0])
    guard.check(api, ORG, LOC)
    api.pstn[(ORG, LOC)] = "INTEGRATED_CCP"
    guard.check(api, ORG, LOC)  # still the cached LOCAL_GATEWAY
    clock[0] = 3601
    with pytest.raises(Exception, match="INTEGRATED_CCP"):
        guard.check(api, ORG, LOC)
    assert api.pstn_calls == 2


def test_toll_free_numbers_go_in_their_own_tollfree_batches(db):
    seed(db, ["+18002345678", "+12127881600", "+18882345678"], number_type="user", location_id="LOC-NY")
    api = FakeNumbersApi()
    engine(db, api).run_due(T0)
    assert sorted((c.kind, c.usage, c.numbers) for c in api.add_calls) == [
        ("DID", "NONE", ("+12127881600",)), ("TOLLFREE", "NONE", ("+18002345678", "+18882345678"))]
