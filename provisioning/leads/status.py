"""Service status (SPEC §1), derived from the service row and its numbers' sync states.

Status is never stored: it follows from consent, removal, the sync error and the per-state
number counts, so it cannot drift from the numbers. Counts come from one GROUP BY query for
any number of services, so listing many services stays one round trip.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from provisioning import consent
from store.models import Number, Service, SyncTask

PENDING_CONSENT = "Pending Consent"
PENDING_PROVISIONING = "Pending Provisioning"
SYNCING = "Syncing"
READY = "Ready"
SYNC_FAILED = "Sync Failed"
REMOVING = "Removing"
STATUS_ORDER = (SYNC_FAILED, SYNCING, PENDING_PROVISIONING, PENDING_CONSENT, READY, REMOVING)


@dataclass(frozen=True)
class ServiceStatus:
    """A status label, plus the reason when it is Sync Failed."""

    label: str
    reason: str | None = None

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}" if self.reason else self.label


def derive_status(service: Service, counts: Mapping[str, int], awaiting_consent: bool = False) -> ServiceStatus:
    """The status of `service` given its numbers per sync state (pending/pushed/live/failed).

    `awaiting_consent`: a Service App is configured and no org token can be had (SPEC §5.1).
    """
    if service.removing:
        return ServiceStatus(REMOVING)
    if service.consented_on is None or awaiting_consent:
        return ServiceStatus(PENDING_CONSENT)
    total = sum(counts.values())
    if total == 0:
        return ServiceStatus(PENDING_PROVISIONING)
    failed = counts.get("failed", 0)
    if failed or service.sync_error:
        reason = service.sync_error or f"{failed} of {total} numbers failed"
        return ServiceStatus(SYNC_FAILED, reason)
    if counts.get("live", 0) < total:
        return ServiceStatus(SYNCING)
    return ServiceStatus(READY)


def status_counts(session: Session, service_ids: Iterable[int]) -> dict[int, Counter]:
    """Numbers per sync state for each service (every asked id present), in one query."""
    ids = sorted(set(service_ids))
    result: dict[int, Counter] = {sid: Counter() for sid in ids}
    if not ids:
        return result
    rows = session.execute(
        select(Number.service_id, Number.sync_state, func.count())
        .where(Number.service_id.in_(ids))
        .group_by(Number.service_id, Number.sync_state)
    )
    for service_id, state, count in rows:
        result[service_id][state] = count
    return result


def statuses(session: Session, services: Iterable[Service]) -> dict[int, ServiceStatus]:
    """Status of each service by id (one counting query for all of them)."""
    services = list(services)
    counts = status_counts(session, (s.id for s in services))
    waiting = consent.awaiting(session, (s.org_id for s in services))
    return {s.id: derive_status(s, counts[s.id], s.org_id in waiting) for s in services}


def last_sync_error(session: Session, service_id: int) -> str | None:
    """What `status SERVICE` shows as the last error: the service's, else its latest task's."""
    service_error = session.scalar(select(Service.sync_error).where(Service.id == service_id))
    if service_error:
        return service_error
    return session.scalar(
        select(SyncTask.last_error)
        .where(SyncTask.service_id == service_id, SyncTask.last_error.is_not(None))
        .order_by(SyncTask.id.desc())
        .limit(1)
    )
