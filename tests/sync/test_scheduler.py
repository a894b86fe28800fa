"""bot/scheduler.py: which jobs exist, how often, and that they do their work."""
from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.bootstrap import Wiring
from bot.scheduler import CONSENT_JOB, DIGEST_JOB, EXPIRY_JOB, SYNC_JOB, SYNC_SOON_JOB, build_scheduler, start_scheduler
from bot.tokens import PartnerToken, ServiceAppTokens
from handlers.base import Services
from provisioning.settings import Settings
from provisioning.sync.port import RateLimited
from store import leases
from store.models import OrganizationConsent, utcnow
from tests.support.factories import e164s, seed
from tests.support.fake_numbers_api import FakeNumbersApi
from tests.sync.helpers import number_states, outbox


def _services(db, **settings) -> Services:
    return Services(db=db, settings=Settings(sync_poll_seconds=45, **settings))


def test_jobs_and_their_schedules(db):
    flushed = []
    scheduler = build_scheduler(_services(db), FakeNumbersApi(), [(lambda: flushed.append(1), 5)])
    assert isinstance(scheduler, BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {SYNC_JOB, DIGEST_JOB, EXPIRY_JOB, "job-0"}
    assert jobs[EXPIRY_JOB].trigger.interval == timedelta(seconds=60)
    assert isinstance(jobs[SYNC_JOB].trigger, IntervalTrigger)
    assert jobs[SYNC_JOB].trigger.interval == timedelta(seconds=45)
    assert isinstance(jobs[DIGEST_JOB].trigger, CronTrigger)
    assert str(jobs[DIGEST_JOB].trigger.fields[-1]) == "0"  # on the minute
    assert jobs["job-0"].trigger.interval == timedelta(seconds=5)
    jobs["job-0"].func()
    assert flushed == [1]


def test_without_a_numbers_api_there_is_no_sync_job(db):
    scheduler = build_scheduler(_services(db), None, blocking=True)
    assert isinstance(scheduler, BlockingScheduler)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted([DIGEST_JOB, EXPIRY_JOB])


def test_the_sync_job_runs_a_pass(db):
    seed(db, e164s(30))
    api = FakeNumbersApi()
    scheduler = build_scheduler(_services(db, sync_batch_size=10), api, worker_id="sched-1")
    scheduler.get_job(SYNC_JOB).func()
    assert len(api.add_calls) == 3
    assert number_states(db) == {"live": 30}
    assert len(outbox(db)) == 1


def test_a_task_due_before_the_next_poll_brings_the_next_pass_forward(db):
    seed(db, e164s(3))
    api = FakeNumbersApi()
    api.fail_next("add", RateLimited(2))
    scheduler = build_scheduler(_services(db), api)
    before = utcnow()
    scheduler.get_job(SYNC_JOB).func()
    soon = scheduler.get_job(SYNC_SOON_JOB)
    assert soon is not None
    assert before + timedelta(seconds=2) <= soon.trigger.run_date <= before + timedelta(seconds=10)


def test_the_digest_job_queues_due_digests(db):
    from store.models import DigestSubscription, Operator, Tenant

    with db.sessions.begin() as session:
        tenant, operator = Tenant(name="Acme SP"), Operator(email="ops@acme.example")
        session.add_all([tenant, operator])
        session.flush()
        session.add(DigestSubscription(room_id="room-d", tenant_id=tenant.id, operator_id=operator.id,
                                       time_of_day="00:00"))
    job = build_scheduler(_services(db), None).get_job(DIGEST_JOB)
    job.func(*job.args)
    assert [m.room_id for m in outbox(db)] == ["room-d"]


def test_worker_ids_are_unique_per_start():
    assert leases.worker_id("sync") != leases.worker_id("sync")


def test_started_without_a_webex_token_only_digests_run(db):
    scheduler = start_scheduler(Wiring(_services(db), None, None))
    try:
        assert sorted(job.id for job in scheduler.get_jobs()) == sorted([DIGEST_JOB, EXPIRY_JOB])
    finally:
        scheduler.shutdown(wait=True)


def test_with_a_service_app_pending_orgs_are_rechecked_every_poll(db, fake_webex):
    seed(db, e164s(1))
    app = fake_webex.service_app
    tokens = ServiceAppTokens(fake_webex.base_url, client_id=app.client_id, client_secret=app.client_secret,
                              manager_client_id=app.manager_client_id,
                              manager_client_secret=app.manager_client_secret,
                              manager_refresh_token=app.manager_refresh_token)
    scheduler = build_scheduler(_services(db, webex_api_base_url=fake_webex.base_url), FakeNumbersApi(),
                                tokens=tokens)
    job = {j.id: j for j in scheduler.get_jobs()}[CONSENT_JOB]
    assert job.trigger.interval == timedelta(seconds=45)

    assert job.func().missing == 1  # not authorized yet: 403 from the token endpoint
    fake_webex.authorize("ORG-ROMA")
    with db.sessions.begin() as session:
        session.get(OrganizationConsent, "ORG-ROMA").next_check_at = utcnow()
    assert job.func().granted == 1
    assert CONSENT_JOB not in {j.id for j in build_scheduler(_services(db), FakeNumbersApi(),
                                                             tokens=PartnerToken("p")).get_jobs()}
