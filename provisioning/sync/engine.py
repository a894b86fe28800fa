"""The sync engine: push submitted numbers to Webex and watch them go live (SPEC §5).

One `SyncTask` row per submitted upload is the durable unit of work. A pass claims due
tasks with a lease (`claims`), then for each: integrated services post pending numbers
in batches, committing each batch's outcome right after Webex's answer (so a restart never
re-posts an acknowledged batch); every service polls the location's numbers and marks the
ACTIVE ones live. A task finishes when none of its numbers is pending or pushed; the Ready
and failure notices go to the outbox in the same transaction. Failures are retried with
exponential backoff and jitter (429s after Retry-After) until `sync_max_attempts`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import case, func, select, update

from provisioning import consent
from provisioning.backoff import Backoff
from provisioning.numbers.metadata import number_kind
from provisioning.settings import Settings
from provisioning.sync import states as nums
from provisioning.sync.claims import Claim, LeaseLost, claim_due, release, renew
from provisioning.sync.notices import notify_failed, notify_ready
from provisioning.sync.port import (
    ACTIVE,
    ConsentMissing,
    NumbersApi,
    NumbersApiError,
    PermanentApiError,
    RateLimited,
    is_already_exists,
    usage_for,
)
from provisioning.sync.pstn import PstnGuard
from store.db import Database
from store.models import Service, SyncTask, utcnow

log = logging.getLogger(__name__)


@dataclass
class SyncRunReport:
    """What one pass did; `next_due_at` is when the earliest open task wants to run again."""

    claimed: int = 0
    add_requests: int = 0
    pushed: int = 0
    refused: int = 0
    live: int = 0
    finished: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0
    paused: int = 0
    notices: int = 0
    next_due_at: datetime | None = None


@dataclass
class _Job:
    claim: Claim
    service_id: int
    service_name: str
    mode: str
    org_id: str
    location_id: str
    removing: bool
    attempts: int


class SyncEngine:
    """Works due sync tasks as `worker_id`; one instance per worker (thread or process)."""

    def __init__(
        self,
        db: Database,
        numbers_api: NumbersApi,
        settings: Settings,
        *,
        worker_id: str,
        lease: timedelta = timedelta(minutes=5),
        backoff: Backoff = Backoff(base=2.0, cap=900.0),
        max_tasks: int = 100,
        live_consent: bool | None = None,
        pstn: PstnGuard | None = None,
    ) -> None:
        self.db = db
        self.api = numbers_api
        self.settings = settings
        self.worker_id = worker_id
        self.lease = lease
        self.backoff = backoff
        self.max_tasks = max_tasks
        # With a Service App, consent is known only from Webex: sync of an org without it waits.
        self.live_consent = settings.service_app_configured if live_consent is None else live_consent
        self.pstn = pstn or PstnGuard()
        self._clock: Callable[[], datetime] = utcnow
        self._listings: dict[tuple[str, str], dict[str, str]] = {}

    def run_due(self, now: datetime | None = None) -> SyncRunReport:
        """One pass: claim due tasks one at a time and work each. `now` freezes the clock."""
        self._clock = (lambda: now) if now is not None else utcnow
        report = SyncRunReport()
        try:
            while report.claimed < self.max_tasks:
                claims = claim_due(self.db, self.worker_id, self._clock(), self.lease)
                if not claims:
                    break
                report.claimed += 1
                self._work(claims[0], report)
        finally:
            self._listings.clear()
        report.next_due_at = self._next_due()
        return report

    def _next_due(self) -> datetime | None:
        """When the earliest open task can next be claimed (its lease counts, too)."""
        claimable_at = case(
            (SyncTask.locked_until > SyncTask.next_run_at, SyncTask.locked_until), else_=SyncTask.next_run_at
        )
        with self.db.sessions() as session:
            return session.scalar(select(func.min(claimable_at)).where(SyncTask.state == "pending"))

    # one task ---------------------------------------------------------------------------------
    def _work(self, claim: Claim, report: SyncRunReport) -> None:
        job = self._load(claim)
        try:
            if job.removing:
                self._close(job, "cancelled", report)
                return
            if self.live_consent and not self._consented(job):
                self._wait_for_consent(job, None, report)
                return
            if job.mode == "integrated":
                self._push_pending(job, report)
            self._poll(job, report)
            self._finish_or_wait(job, report)
        except LeaseLost as exc:
            report.lost += 1
            log.warning("%s", exc)
        except RateLimited as exc:
            self._safely(self._retry, job, str(exc), self.backoff.after(exc.retry_after), report)
        except ConsentMissing as exc:
            if self.live_consent:
                self._safely(self._wait_for_consent, job, str(exc), report)
            else:
                self._safely(self._fail, job, str(exc), report)
        except PermanentApiError as exc:
            self._safely(self._fail, job, str(exc), report)
        except Exception as exc:  # transient API errors, database hiccups, bugs: retry later
            log.warning("sync task %s: %s", claim.task_id, exc, exc_info=not _is_api_error(exc))
            self._safely(self._retry, job, _describe(exc), self.backoff.delay(job.attempts + 1), report)

    def _load(self, claim: Claim) -> _Job:
        with self.db.sessions() as session:
            service = session.get(Service, claim.service_id)
            return _Job(claim, service.id, service.name, service.mode, service.org_id,
                        service.location_id, service.removing, claim.attempts)

    def _push_pending(self, job: _Job, report: SyncRunReport) -> None:
        """Post pending numbers batch by batch, committing each outcome at once."""
        size = max(1, self.settings.sync_batch_size)
        with self.db.sessions() as session:
            by_type = nums.pending_by_type(session, job.claim.upload_id)
        if not by_type:
            return
        self.pstn.check(self.api, job.org_id, job.location_id)  # raises: nothing is sent
        groups: dict[tuple[str, str], list[str]] = {}
        for number_type, numbers in by_type.items():
            usage = usage_for(number_type)
            for number in numbers:
                kind = "TOLLFREE" if number_kind(number) == "TOLLFREE" else "DID"  # SPEC §5.2
                groups.setdefault((usage, kind), []).append(number)
        for (usage, kind), numbers in sorted(groups.items()):
            for start in range(0, len(numbers), size):
                batch = numbers[start:start + size]
                self._listings.pop((job.org_id, job.location_id), None)
                result = self.api.add_numbers(job.org_id, job.location_id, batch, usage, kind)
                report.add_requests += 1
                self._record_batch(job, batch, result.refused, report)

    def _record_batch(self, job: _Job, batch: list[str], refused: dict[str, str], report: SyncRunReport) -> None:
        in_batch = set(batch)
        refused = {n: m for n, m in refused.items() if n in in_batch}
        already = {n: m for n, m in refused.items() if is_already_exists(m)}
        failed = {n: m for n, m in refused.items() if n not in already}
        accepted = [n for n in batch if n not in refused]
        with self.db.sessions.begin() as session:
            renew(session, job.claim, self._clock(), self.lease)
            self._progress(session, job)
            nums.mark(session, accepted, "pushed", from_states=("pending",))
            nums.mark_with_errors(session, already, "pushed")
            nums.mark_with_errors(session, failed, "failed")
        report.pushed += len(accepted) + len(already)
        report.refused += len(failed)

    def _poll(self, job: _Job, report: SyncRunReport) -> None:
        """List the location once and mark this service's ACTIVE numbers live (set-based)."""
        with self.db.sessions() as session:
            if not nums.upload_counts(session, job.claim.upload_id).keys() & set(nums.NOT_LIVE):
                return
            waiting = nums.not_live(session, job.service_id)
        remote = self._listing(job.org_id, job.location_id)
        present = waiting & remote.keys()
        active = [n for n in present if remote[n] == ACTIVE]
        now = self._clock()
        with self.db.sessions.begin() as session:
            renew(session, job.claim, now, self.lease)
            self._progress(session, job)
            report.live += nums.mark(session, active, "live", from_states=nums.NOT_LIVE, now=now)
            elsewhere = {n: m for n, m in nums.doubtful(session, job.service_id).items() if n not in present}
            nums.mark_with_errors(session, elsewhere, "failed")
            report.refused += len(elsewhere)

    def _listing(self, org_id: str, location_id: str) -> dict[str, str]:
        """The location's numbers and states, listed once per pass (until we add to it)."""
        key = (org_id, location_id)
        if key not in self._listings:
            self._listings[key] = {r.e164: r.state for r in self.api.list_numbers(org_id, location_id)}
        return self._listings[key]

    def _finish_or_wait(self, job: _Job, report: SyncRunReport) -> None:
        now = self._clock()
        with self.db.sessions.begin() as session:
            counts = nums.upload_counts(session, job.claim.upload_id)
            if counts["pending"] or counts["pushed"]:
                release(session, job.claim, attempts=job.attempts,
                        next_run_at=now + timedelta(seconds=self.settings.sync_poll_seconds))
                return
            if counts["failed"]:
                number, message = nums.first_failure(session, job.claim.upload_id)
                reason = _refusal_reason(counts["failed"], number, message)
                release(session, job.claim, state="failed", finished_at=now, attempts=job.attempts,
                        last_error=reason)
                notify_failed(session, job.claim.upload_id, reason, now)
                report.failed += 1
                report.notices += 1
            else:
                release(session, job.claim, state="done", finished_at=now, attempts=0, last_error=None)
                report.finished += 1
            report.notices += notify_ready(session, job.service_id, now)

    # consent ----------------------------------------------------------------------------------
    def _consented(self, job: _Job) -> bool:
        with self.db.sessions() as session:
            return consent.consented(session, job.org_id)

    def _wait_for_consent(self, job: _Job, reason: str | None, report: SyncRunReport) -> None:
        """No consent (yet, or any more): the task waits, unfailed, until consent returns."""
        now = self._clock()
        poll = self.settings.sync_poll_seconds
        with self.db.sessions.begin() as session:
            if reason is None:
                consent.track(session, job.org_id, now)
            else:
                consent.missing(session, job.org_id, reason, now, poll)
            release(session, job.claim, attempts=job.attempts, next_run_at=now + timedelta(seconds=poll))
        report.paused += 1

    # failures ---------------------------------------------------------------------------------
    def _retry(self, job: _Job, error: str, delay: float, report: SyncRunReport) -> None:
        attempts = job.attempts + 1
        if attempts >= self.settings.sync_max_attempts:
            self._fail(job, f"gave up after {attempts} attempts: {error}", report)
            return
        with self.db.sessions.begin() as session:
            release(session, job.claim, attempts=attempts, last_error=error,
                    next_run_at=self._clock() + timedelta(seconds=delay))
        report.retried += 1

    def _fail(self, job: _Job, reason: str, report: SyncRunReport) -> None:
        now = self._clock()
        with self.db.sessions.begin() as session:
            release(session, job.claim, state="failed", finished_at=now, last_error=reason,
                    attempts=job.attempts + 1)
            nums.fail_remaining(session, job.claim.upload_id, reason)
            notify_failed(session, job.claim.upload_id, reason, now)
        report.failed += 1
        report.notices += 1

    def _close(self, job: _Job, state: str, report: SyncRunReport) -> None:
        with self.db.sessions.begin() as session:
            release(session, job.claim, state=state, finished_at=self._clock())
        report.finished += 1

    def _safely(self, step: Callable, job: _Job, *args) -> None:
        """Record a failure; if even that fails, the lease simply runs out and it is retried."""
        try:
            step(job, *args)
        except LeaseLost as exc:
            args[-1].lost += 1
            log.warning("%s", exc)
        except Exception:
            log.exception("sync task %s: could not record the failure", job.claim.task_id)

    def _progress(self, session, job: _Job) -> None:
        """A successful call resets the failure count: attempts count consecutive failures."""
        if job.attempts:
            job.attempts = 0
            session.execute(update(SyncTask).where(SyncTask.id == job.claim.task_id).values(attempts=0))


def run_due_sync(
    db: Database,
    numbers_api: NumbersApi,
    settings: Settings,
    *,
    worker_id: str,
    now: datetime | None = None,
    **options,
) -> SyncRunReport:
    """One sync pass as `worker_id` (options: lease, backoff, max_tasks)."""
    return SyncEngine(db, numbers_api, settings, worker_id=worker_id, **options).run_due(now)


def _refusal_reason(failed: int, number: str, message: str) -> str:
    noun = "number was" if failed == 1 else "numbers were"
    return f"{failed} {noun} refused by Webex, e.g. {number}: {message}"


def _is_api_error(exc: Exception) -> bool:
    return isinstance(exc, NumbersApiError)


def _describe(exc: Exception) -> str:
    """Short text for last_error: API errors as they are; others by class and first line
    (database errors would otherwise carry whole statements and parameters)."""
    if _is_api_error(exc):
        return str(exc)
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line[:200]}"

