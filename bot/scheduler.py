"""APScheduler 3 wiring: the sync poll, the digest check, preview expiry and the transport's outbox flush.

`leadsbot worker` runs `run_worker` (a BlockingScheduler), `leadsbot serve` runs
`start_scheduler` (a BackgroundScheduler) unless `--no-scheduler`. Jobs hold no state of
their own: the work lives in the database and is claimed with leases, so any number of
schedulers in any number of processes can run at once without doing anything twice.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.bootstrap import Wiring
from bot.outbox import flush_outbox
from bot.service_app import consent_probe
from bot.tokens import TokenSource
from bot.webex_client import WebexClient
from provisioning import consent
from provisioning.leads.digests import run_digests
from provisioning.services import Services
from provisioning.sync.engine import SyncEngine
from provisioning.sync.port import NumbersApi
from provisioning.uploads.expiry import expire_previews
from store import leases
from store.models import utcnow

log = logging.getLogger(__name__)

SYNC_JOB = "sync"
SYNC_SOON_JOB = "sync-soon"
DIGEST_JOB = "digests"
EXPIRY_JOB = "preview-expiry"
CONSENT_JOB = "consent"
EXPIRY_SECONDS = 60
OUTBOX_SECONDS = 5
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}


class SyncJob:
    """One sync pass per call; brings the next pass forward when a task is due before the poll."""

    def __init__(self, services: Services, numbers_api: NumbersApi, worker_id: str,
                 scheduler: BaseScheduler) -> None:
        self.engine = SyncEngine(services.db, numbers_api, services.settings, worker_id=worker_id)
        self.poll = timedelta(seconds=services.settings.sync_poll_seconds)
        self.scheduler = scheduler
        self._busy = threading.Lock()

    def __call__(self) -> None:
        if not self._busy.acquire(blocking=False):
            return  # the interval and the "soon" job met; one pass at a time is enough
        try:
            report = self.engine.run_due()
        finally:
            self._busy.release()
        if report.claimed:
            log.info("sync pass: %s", report)
        due = report.next_due_at
        if due is not None and due < utcnow() + self.poll:
            run_at = max(due, utcnow()) + timedelta(milliseconds=50)
            self.scheduler.add_job(self, "date", run_date=run_at, id=SYNC_SOON_JOB, replace_existing=True)


class ConsentJob:
    """Re-checks organizations still without consent (SPEC §5.1), each when its backoff is due."""

    def __init__(self, services: Services, tokens: TokenSource) -> None:
        self.services = services
        self.probe = consent_probe(tokens, services.settings.webex_api_base_url)
        self.backoff = consent.consent_backoff(services.settings.sync_poll_seconds)

    def __call__(self) -> consent.ConsentReport:
        report = consent.check_due(self.services.db, self.probe, utcnow(), self.backoff)
        if report.checked:
            log.info("consent checks: %s", report)
        return report


def build_scheduler(
    services: Services,
    numbers_api: NumbersApi | None,
    jobs: Iterable[tuple[Callable[[], object], float]] = (),
    *,
    blocking: bool = False,
    worker_id: str | None = None,
    tokens: TokenSource | None = None,
) -> BaseScheduler:
    """A scheduler (not started) with the sync poll, the minute digest check, preview expiry and `jobs`.

    `jobs` are extra (callable, every-N-seconds) pairs, e.g. the transport's outbox flush.
    Without a `numbers_api` (no organization credentials) there is no sync job; with a Service
    App (`tokens.checks_consent`) pending organizations are re-checked every poll interval.
    """
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(timezone=timezone.utc, job_defaults=JOB_DEFAULTS)
    first_run = datetime.now(timezone.utc)
    if numbers_api is not None:
        job = SyncJob(services, numbers_api, worker_id or leases.worker_id("sync"), scheduler)
        scheduler.add_job(job, "interval", seconds=services.settings.sync_poll_seconds, id=SYNC_JOB,
                          next_run_time=first_run)
    if tokens is not None and getattr(tokens, "checks_consent", False):
        scheduler.add_job(ConsentJob(services, tokens), "interval", seconds=services.settings.sync_poll_seconds,
                          id=CONSENT_JOB, next_run_time=first_run)
    scheduler.add_job(run_digests, CronTrigger(second=0, timezone=timezone.utc), args=[services.db],
                      id=DIGEST_JOB)
    scheduler.add_job(expire_previews, "interval", seconds=EXPIRY_SECONDS, args=[services.db, services.settings],
                      id=EXPIRY_JOB, next_run_time=first_run)
    for index, (function, seconds) in enumerate(jobs):
        scheduler.add_job(function, "interval", seconds=seconds, id=f"job-{index}", next_run_time=first_run)
    return scheduler


def standard_jobs(services: Services, webex: WebexClient | None, outbox_seconds: float = OUTBOX_SECONDS
                  ) -> list[tuple[Callable[[], object], float]]:
    """The outbox flush of the transport (`bot.outbox`), when there is a Webex to send to."""
    if webex is None:
        return []

    def outbox_flush() -> int:
        return flush_outbox(services, webex)

    return [(outbox_flush, outbox_seconds)]


def _configured(wiring: Wiring, blocking: bool, outbox_seconds: float) -> BaseScheduler:
    if wiring.webex is None:
        log.warning("no WEBEX_ACCESS_TOKEN: nothing is sent")
    if wiring.numbers_api is None:
        log.warning("no organization credentials (Service App or WEBEX_PARTNER_ACCESS_TOKEN): numbers are not synced")
    jobs = standard_jobs(wiring.services, wiring.webex, outbox_seconds)
    return build_scheduler(wiring.services, wiring.numbers_api, jobs, blocking=blocking, tokens=wiring.tokens)


def start_scheduler(wiring: Wiring, *, outbox_seconds: float = OUTBOX_SECONDS) -> BackgroundScheduler:
    """Start sync, digests and outbox in background threads of this process (`leadsbot serve`)."""
    scheduler = _configured(wiring, False, outbox_seconds)
    scheduler.start()
    return scheduler


def run_worker(wiring: Wiring) -> None:
    """Run the scheduler in the foreground until interrupted (`leadsbot worker`)."""
    scheduler = _configured(wiring, True, OUTBOX_SECONDS)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
