"""Claiming sync tasks with a lease, so one worker at a time works each task.

A claim writes `locked_by`/`locked_until` and commits before any HTTP call, so other
workers (threads or processes) skip the task until the lease runs out; a killed worker's
task is picked up again once its lease has expired. PostgreSQL picks candidates with
`SELECT ... FOR UPDATE SKIP LOCKED`; SQLite, which has no row locks, uses a conditional
UPDATE (compare-and-set on state and lease) and SQLite's single writer does the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from store.db import Database
from store.models import SyncTask

OPEN = "pending"


class LeaseLost(Exception):
    """Another worker took the task over (our lease expired); stop working it."""


@dataclass(frozen=True)
class Claim:
    """A task this worker holds until `locked_until` (renewed as work goes on)."""

    task_id: int
    upload_id: int
    service_id: int
    attempts: int
    worker_id: str


def _claimable(now: datetime):
    return and_(
        SyncTask.state == OPEN,
        SyncTask.next_run_at <= now,
        or_(SyncTask.locked_until.is_(None), SyncTask.locked_until < now),
    )


def claim_due(db: Database, worker_id: str, now: datetime, lease: timedelta, limit: int = 1) -> list[Claim]:
    """Lease up to `limit` due tasks to `worker_id`, committed before returning."""
    if db.is_postgres:
        return _claim_skip_locked(db, worker_id, now, lease, limit)
    return _claim_compare_and_set(db, worker_id, now, lease, limit)


def _claim_skip_locked(db: Database, worker_id: str, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    with db.sessions.begin() as session:
        rows = session.execute(
            select(SyncTask.id, SyncTask.upload_id, SyncTask.service_id, SyncTask.attempts)
            .where(_claimable(now))
            .order_by(SyncTask.next_run_at, SyncTask.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            session.execute(
                update(SyncTask)
                .where(SyncTask.id.in_([r.id for r in rows]))
                .values(locked_by=worker_id, locked_until=now + lease)
                .execution_options(synchronize_session=False)
            )
    return [Claim(r.id, r.upload_id, r.service_id, r.attempts, worker_id) for r in rows]


def _claim_compare_and_set(db: Database, worker_id: str, now: datetime, lease: timedelta, limit: int) -> list[Claim]:
    with db.sessions() as session:
        candidates = session.execute(
            select(SyncTask.id, SyncTask.upload_id, SyncTask.service_id, SyncTask.attempts)
            .where(_claimable(now))
            .order_by(SyncTask.next_run_at, SyncTask.id)
            .limit(limit * 4)
        ).all()
    claims: list[Claim] = []
    for row in candidates:
        if len(claims) == limit:
            break
        with db.sessions.begin() as session:
            won = session.execute(
                update(SyncTask)
                .where(SyncTask.id == row.id, _claimable(now))
                .values(locked_by=worker_id, locked_until=now + lease)
                .execution_options(synchronize_session=False)
            ).rowcount
        if won == 1:
            claims.append(Claim(row.id, row.upload_id, row.service_id, row.attempts, worker_id))
    return claims


def renew(session: Session, claim: Claim, now: datetime, lease: timedelta) -> None:
    """Extend the lease inside the caller's transaction; LeaseLost if it is no longer ours."""
    held = session.execute(
        update(SyncTask)
        .where(SyncTask.id == claim.task_id, SyncTask.locked_by == claim.worker_id, SyncTask.state == OPEN)
        .values(locked_until=now + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        raise LeaseLost(f"sync task {claim.task_id} is no longer leased to {claim.worker_id}")


def release(session: Session, claim: Claim, **values) -> None:
    """Drop the lease and write `values` (state, next_run_at, attempts, ...); LeaseLost if not ours."""
    released = session.execute(
        update(SyncTask)
        .where(SyncTask.id == claim.task_id, SyncTask.locked_by == claim.worker_id)
        .values(locked_by=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if released != 1:
        raise LeaseLost(f"sync task {claim.task_id} is no longer leased to {claim.worker_id}")
