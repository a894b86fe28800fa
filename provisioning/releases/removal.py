"""The removal pass of a release's sync task (SPEC §5.3), run by the sync engine under its lease.

Per pass: numbers whose upload a worker is still pushing wait for that worker; the location is
listed once; numbers of the release it no longer lists are released; for an integrated service
the listed ones are removed with DELETE, at most 5 per request, each request's outcome committed
right after Webex's answer (a number Webex took is `removed` and never sent again; one it refused
goes back to live with Webex's reason, and the operator is told). When nothing of the release is
left, the notice goes out once. Errors (429 with Retry-After, 5xx) propagate to the engine,
which retries the task with its backoff.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from provisioning import consent
from provisioning.outbox import queue_message
from provisioning.releases.decision import HOLD, SEND, removal_decision
from provisioning.releases.done import finish_if_done, release_numbers
from provisioning.sync.claims import Claim, release, renew
from provisioning.sync.port import MAX_REMOVE, NumbersApi
from provisioning.text import NAME_LIMIT, literal
from store.db import Database
from store.models import Number, Service, SyncTask, Upload

_numbers = Number.__table__


@dataclass
class RemovalReport:
    remove_requests: int = 0
    removed: int = 0
    refused: int = 0
    released: int = 0
    finished: bool = False


@dataclass
class RemovalPass:
    """One pass over one release; `listing(org, location)` lists the location (fresh when asked)."""

    db: Database
    api: NumbersApi
    claim: Claim
    clock: Callable[[], datetime]
    lease: timedelta
    poll_seconds: int
    listing: Callable[[str, str, bool], dict[str, str]]
    progress: Callable[[Session], None]
    pstn_check: Callable[[str, str], None] = lambda org, location: None  # raises PstnNotSupported: nothing sent

    def run(self) -> RemovalReport:
        report = RemovalReport()
        release_id = self.claim.upload_id
        with self.db.sessions() as session:
            service = session.get(Service, self.claim.service_id)
            decision = removal_decision(service, bool(consent.awaiting(session, [service.org_id])))
            org, location, name = service.org_id, service.location_id, service.name
            waiting = self._waiting(session, release_id)
        if decision.action == HOLD:
            self._again(reason=f"queued: {decision.reason}")
            return report
        if waiting:
            remote = self.listing(org, location, True)
            self._release_unlisted(release_id, waiting, remote, report)
            if decision.action == SEND:
                listed = [n for n, state in waiting.items() if state == "removing" and n in remote]
                if listed:
                    self.pstn_check(org, location)
                self._remove(org, location, name, listed, report)
                if report.removed:
                    remote = self.listing(org, location, True)
                    with self.db.sessions() as session:
                        self._release_unlisted(release_id, self._waiting(session, release_id), remote, report)
        with self.db.sessions.begin() as session:
            renew(session, self.claim, self.clock(), self.lease)
            report.finished = finish_if_done(session, release_id, self.clock())
            if not report.finished:
                release(session, self.claim, attempts=0,
                        next_run_at=self.clock() + timedelta(seconds=self.poll_seconds))
        return report

    def _waiting(self, session: Session, release_id: int) -> dict[str, str]:
        """The release's numbers and their state, except those whose upload a worker is pushing now."""
        now = self.clock()
        pushing = select(SyncTask.upload_id).where(SyncTask.state == "pending", SyncTask.locked_until > now,
                                                   SyncTask.upload_id != release_id)
        return dict(session.execute(select(Number.e164, Number.sync_state).where(
            Number.release_id == release_id, Number.upload_id.not_in(pushing))).all())

    def _release_unlisted(self, release_id: int, waiting: dict[str, str], remote: dict[str, str],
                          report: RemovalReport) -> None:
        gone = [n for n in waiting if n not in remote]
        if not gone:
            return
        with self.db.sessions.begin() as session:
            renew(session, self.claim, self.clock(), self.lease)
            self.progress(session)
            report.released += release_numbers(session, release_id, gone, self.clock())

    def _remove(self, org: str, location: str, name: str, numbers: list[str], report: RemovalReport) -> None:
        """DELETE in requests of at most 5; a request Webex refuses as a whole is retried number by number."""
        queue = [numbers[i:i + MAX_REMOVE] for i in range(0, len(numbers), MAX_REMOVE)]
        while queue:
            batch = queue.pop(0)
            result = self.api.remove_numbers(org, location, batch)
            report.remove_requests += 1
            if result.whole and len(batch) > 1:
                queue[:0] = [[n] for n in batch]
                continue
            with self.db.sessions.begin() as session:
                renew(session, self.claim, self.clock(), self.lease)
                self.progress(session)
                taken = [n for n in result.removed if n in set(batch)]
                if taken:
                    session.execute(update(Number).where(Number.e164.in_(taken), Number.sync_state == "removing")
                                    .values(sync_state="removed").execution_options(synchronize_session=False))
                refused = {n: m for n, m in result.refused.items() if n in set(batch)}
                if refused:
                    restore(session, refused)
                    self._tell_refused(session, name, refused)
            report.removed += len(taken)
            report.refused += len(refused)

    def _tell_refused(self, session: Session, service_name: str, refused: dict[str, str]) -> None:
        release_id = self.claim.upload_id
        room_id = session.scalar(select(Upload.room_id).where(Upload.id == release_id))
        number, message = next(iter(refused.items()))
        text = (f"⚠️ {literal(service_name, NAME_LIMIT)}: Webex refused to remove {literal(number, 20)}: "
                f"{literal(message, 300)}. It stays live; "
                f"{literal(f'status {service_name}', NAME_LIMIT + 7)} shows the reason.")
        session.execute(update(SyncTask).where(SyncTask.id == self.claim.task_id)
                        .values(last_error=f"Webex refused to remove {number}: {message}"[:1000]))
        queue_message(session, room_id, text, f"release-refused:{release_id}:{number}", self.clock())

    def _again(self, *, reason: str) -> None:
        with self.db.sessions.begin() as session:
            release(session, self.claim, attempts=0, last_error=reason,
                    next_run_at=self.clock() + timedelta(seconds=self.poll_seconds))


def restore(session: Session, refused: dict[str, str]) -> None:
    """Numbers Webex would not remove stay in the service: live again (or pushed, if never seen
    live), out of the release, with Webex's reason as their error."""
    statement = (
        update(_numbers).where(_numbers.c.e164 == bindparam("b_e164"), _numbers.c.sync_state == "removing")
        .values(sync_state=case((_numbers.c.live_at.is_(None), "pushed"), else_="live"),
                sync_error=bindparam("b_error"), release_id=None)
    )
    session.connection().execute(statement, [{"b_e164": n, "b_error": m} for n, m in refused.items()])


def fail_release(session: Session, release_id: int, reason: str, now: datetime) -> None:
    """Webex keeps refusing the release (gave up): numbers not yet removed stay live with the reason,
    those Webex took are released, and the operator is told."""
    rows = dict(session.execute(select(Number.e164, Number.sync_state).where(Number.release_id == release_id)).all())
    restore(session, {n: reason for n, state in rows.items() if state == "removing"})
    release_numbers(session, release_id, [n for n, state in rows.items() if state == "removed"], now)
    release = session.get(Upload, release_id)
    service = session.get(Service, release.service_id)
    text = (f"❌ **{literal(service.name, NAME_LIMIT)}**: release #{release_id} failed: {literal(reason, 300)}. "
            "The numbers not removed stay live.")
    queue_message(session, release.room_id, text, f"release-failed:{release_id}", now)
    finish_if_done(session, release_id, now)
