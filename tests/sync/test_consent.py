"""Live consent (provisioning/consent.py) and how the sync engine waits for it, on SQLite and PostgreSQL."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from provisioning import consent
from provisioning.backoff import Backoff
from provisioning.leads.status import statuses
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from provisioning.sync.port import ConsentMissing, TransientApiError
from store.models import DigestSubscription, Operator, OrganizationConsent, Service
from tests.support.factories import T0, e164s, make_service, make_tenant, seed
from tests.support.fake_numbers_api import FakeNumbersApi
from tests.sync.helpers import number_states, outbox, task_of

ORG = "ORG-ROMA"
SETTINGS = Settings(sync_batch_size=50, sync_poll_seconds=60, sync_max_attempts=4)
BACKOFF = Backoff(base=60, cap=900, rng=random.Random(7))


class Probe:
    """Stands in for the token source: which orgs Webex would give a token for."""

    def __init__(self, consented=(), error: Exception | None = None) -> None:
        self.consented, self.error, self.asked = set(consented), error, []

    def __call__(self, org_id: str) -> str:
        self.asked.append(org_id)
        if self.error is not None:
            raise self.error
        if org_id not in self.consented:
            raise ConsentMissing(org_id, "not authorized yet")
        return "token"


def row(db, org_id: str = ORG) -> OrganizationConsent | None:
    with db.sessions() as session:
        return session.get(OrganizationConsent, org_id)


def check(db, probe, now=T0):
    return consent.check_due(db, probe, now, BACKOFF)


def sync(db, api, now=T0, **options):
    return run_due_sync(db, api, SETTINGS, worker_id="w1", now=now, live_consent=True, **options)


def test_every_org_is_tracked_and_pending_ones_back_off_up_to_15_minutes(db):
    seed(db, e164s(2))
    with db.sessions.begin() as session:
        make_service(session, "other", org_id="ORG-OTHER", consented=False)
    probe = Probe()

    report = check(db, probe)

    assert report.checked == 2 and report.missing == 2 and sorted(probe.asked) == ["ORG-OTHER", ORG]
    first = row(db)
    assert first.state == "pending" and first.last_error == "not authorized yet" and first.attempts == 1
    assert check(db, probe, T0 + timedelta(seconds=29)).checked == 0  # not due yet: per-org backoff
    now, delays = T0, []
    for _ in range(8):
        now = row(db).next_check_at
        check(db, probe, now)
        delays.append((row(db).next_check_at - now).total_seconds())
    assert max(delays) <= 900 and 450 <= delays[-1]  # doubling from the poll interval, capped at 15 minutes


def test_consent_sets_consented_on_resumes_tasks_and_tells_each_space_once(db):
    with db.sessions.begin() as session:
        make_service(session, consented=False)
        make_service(session, "roma-cx", consented=True)
        tenant = make_tenant(session)
        person = Operator(email="ops@acme.example")
        session.add(person)
        session.flush()
        session.add(DigestSubscription(room_id="room-digest", tenant_id=tenant.id, operator_id=person.id,
                                       time_of_day="09:00"))
    later = T0 + timedelta(minutes=5)

    assert check(db, Probe([ORG]), later).granted == 1

    assert row(db).state == "consented" and row(db).consented_on == later
    with db.sessions() as session:
        consented = dict(session.execute(select(Service.name, Service.consented_on)).all())
    assert consented == {"roma-cc": later, "roma-cx": T0}  # the inventory's date is kept
    [told] = outbox(db)
    assert told.room_id == "room-digest"
    assert told.markdown == "✅ `Pizzeria Roma S.p.A.` consented: `roma-cc`, `roma-cx` can sync"
    with db.sessions.begin() as session:
        assert consent.granted(session, ORG, later) is False  # already known: nothing new to tell
    assert len(outbox(db)) == 1


def test_withdrawal_and_return_are_each_told_once(db):
    seed(db, e164s(2), room_id="room-a")
    with db.sessions.begin() as session:
        consent.granted(session, ORG, T0)
        assert consent.missing(session, ORG, consent.DEAUTHORIZED, T0, 60) is True
        assert consent.missing(session, ORG, "403 again", T0, 60) is False
        consent.granted(session, ORG, T0 + timedelta(hours=1))
    texts = [m.markdown for m in outbox(db)]
    assert [t.split(":")[0] for t in texts] == ["✅ `Pizzeria Roma S.p.A.` consented",
                                                 "⏸ `Pizzeria Roma S.p.A.` withdrew consent",
                                                 "✅ `Pizzeria Roma S.p.A.` consented"]
    assert {m.room_id for m in outbox(db)} == {"room-a"}


def test_a_token_endpoint_that_fails_changes_nothing_but_is_asked_again_later(db):
    seed(db, e164s(1))
    with db.sessions.begin() as session:
        consent.granted(session, ORG, T0)
        consent.missing(session, ORG, "deauthorized", T0, 60)
    probe = Probe(error=TransientApiError("Webex token endpoint applications: ReadTimeout"))

    report = check(db, probe, T0 + timedelta(minutes=2))

    assert report.unreachable == 1
    assert row(db).state == "pending" and row(db).last_error.startswith("could not check consent: Webex token")


def test_status_is_pending_consent_while_the_org_has_none(db):
    service_id, _ = seed(db, e164s(1))
    with db.sessions.begin() as session:
        consent.track(session, ORG, T0)
    with db.sessions() as session:
        service = session.get(Service, service_id)
        assert statuses(session, [service])[service_id].label == "Pending Consent"
    with db.sessions.begin() as session:
        consent.granted(session, ORG, T0)
    with db.sessions() as session:
        service = session.get(Service, service_id)
        assert statuses(session, [service])[service_id].label == "Syncing"


def test_sync_waits_for_consent_without_failing_or_sending_anything(db):
    _, upload_id = seed(db, e164s(120))
    api = FakeNumbersApi()

    report = sync(db, api)

    assert report.paused == 1 and api.add_calls == [] and api.pstn_calls == 0
    assert number_states(db) == {"pending": 120}
    task = task_of(db, upload_id)
    assert task.state == "pending" and task.attempts == 0 and task.next_run_at == T0 + timedelta(seconds=60)
    assert row(db).state == "pending"  # tracked, so the consent check asks for it

    check(db, Probe([ORG]), T0 + timedelta(seconds=1))
    assert task_of(db, upload_id).next_run_at == T0 + timedelta(seconds=1)  # resumed at once
    sync(db, api, T0 + timedelta(seconds=1))
    assert number_states(db) == {"live": 120}


def test_consent_lost_mid_batch_pauses_and_nothing_is_lost(db):
    _, upload_id = seed(db, e164s(120))
    with db.sessions.begin() as session:
        consent.granted(session, ORG, T0)
    api = FakeNumbersApi()
    api.fail_next("add", ConsentMissing(ORG, "[401] refused (the organization token was refused)"))
    api.add_calls.clear()

    report = sync(db, api)

    assert report.paused == 1 and report.failed == 0
    assert number_states(db) == {"pending": 120} and row(db).state == "pending"
    assert "withdrew consent" in outbox(db)[-1].markdown
    with db.sessions.begin() as session:
        consent.granted(session, ORG, T0 + timedelta(minutes=1))
    sync(db, api, T0 + timedelta(minutes=1))
    assert number_states(db) == {"live": 120} and api.post_counts().most_common(1)[0][1] == 1


def test_without_a_service_app_a_refused_token_is_a_sync_failure(db):
    service_id, upload_id = seed(db, e164s(3))
    api = FakeNumbersApi()
    api.fail_next("add", ConsentMissing(ORG, "[403] The org is not entitled (the organization token was refused)"))

    report = run_due_sync(db, api, SETTINGS, worker_id="w1", now=T0, live_consent=False)

    assert report.failed == 1 and task_of(db, upload_id).state == "failed"
    assert "[403] The org is not entitled" in task_of(db, upload_id).last_error
    assert row(db) is None  # partner mode: consent is the inventory's
