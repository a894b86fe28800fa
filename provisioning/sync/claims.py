"""Sync tasks as a work queue: one worker at a time works a task, under a lease (`store.leases`).

A claim commits before any HTTP call, so other workers (threads or processes) skip the task
until its lease runs out; a killed worker's task is picked up again once its lease expired.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import leases
from store.db import Database
from store.leases import LeaseLost
from store.models import SyncTask

__all__ = ["Claim", "LeaseLost", "SYNC_TASKS", "claim_due", "release", "renew"]

OPEN = "pending"
SYNC_TASKS = leases.WorkQueue(SyncTask, SyncTask.state == OPEN, (SyncTask.next_run_at, SyncTask.id))


@dataclass(frozen=True)
class Claim:
    """A task this worker holds until `locked_until` (renewed as work goes on)."""

    task_id: int
    upload_id: int
    service_id: int
    attempts: int
    worker_id: str


def claim_due(db: Database, worker_id: str, now: datetime, lease: timedelta, limit: int = 1) -> list[Claim]:
    """Lease up to `limit` due tasks to `worker_id`, committed before returning."""
    with db.sessions.begin() as session:
        rows = leases.claim(session, SYNC_TASKS, worker_id, now, lease, limit=limit,
                            returning=(SyncTask.upload_id, SyncTask.service_id, SyncTask.attempts))
    return [Claim(r.id, r.upload_id, r.service_id, r.attempts, worker_id) for r in rows]


def renew(session: Session, claim: Claim, now: datetime, lease: timedelta) -> None:
    """Extend the lease inside the caller's transaction; LeaseLost if it is no longer ours."""
    leases.renew(session, SYNC_TASKS, claim.task_id, claim.worker_id, now, lease)


def release(session: Session, claim: Claim, **values) -> None:
    """Drop the lease and write `values` (state, next_run_at, attempts, ...); LeaseLost if not ours."""
    leases.release(session, SYNC_TASKS, claim.task_id, claim.worker_id, **values)
