"""Durable work claimed with leases: one implementation for the webhook inbox, the outbox and sync.

A work table has `id`, `next_run_at`, `locked_by`, `locked_until` and `attempts` columns, plus
a condition saying which of its rows still need work (`WorkQueue.open`). A claim is one UPDATE
of the oldest due rows, committed before any work starts: PostgreSQL picks them with
`FOR UPDATE SKIP LOCKED`, so workers in several processes never wait for or take each other's
rows; SQLite runs one writer at a time, so the same statement is atomic there. The holder
renews its lease while it works and releases it with the outcome; a worker that dies simply
lets its lease run out, and the row is claimed again.
"""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, update

WORKER_ID_MAX = 100  # the locked_by columns' width


class LeaseLost(Exception):
    """Another worker holds the row now (our lease expired): stop working it."""


def worker_id(role: str = "") -> str:
    """Unique per process and start, so a restarted worker never mistakes old leases for its own."""
    parts = [socket.gethostname()[:40], str(os.getpid()), uuid.uuid4().hex[:8]]
    return ":".join([role, *parts] if role else parts)[:WORKER_ID_MAX]


@dataclass(frozen=True)
class WorkQueue:
    """A table of durable work: which rows are open, and in which order they are claimed."""

    model: Any
    open: ColumnElement[bool]
    order: tuple[ColumnElement, ...]
    key: Any = None  # the column a row is leased, renewed and released by; the model's `id` when None

    @property
    def row_key(self) -> Any:
        return self.model.id if self.key is None else self.key

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Open, due, and not leased to anyone (or leased by a worker whose lease ran out)."""
        model = self.model
        return and_(self.open, model.next_run_at <= now,
                    or_(model.locked_until.is_(None), model.locked_until < now))


def claim(executor, queue: WorkQueue, worker: str, now: datetime, lease: timedelta, *, limit: int = 1,
          where: Sequence[ColumnElement[bool]] = (), returning: Sequence[Any] = (),
          values: dict[str, Any] | None = None) -> list[Row]:
    """Lease up to `limit` due rows to `worker`; returns the key (`id`) plus `returning` of each, oldest first.

    `where` narrows which rows may be claimed, `values` are written with the lease (e.g. an
    attempt counter). Call it in its own transaction, committed before the work starts.
    """
    model, key = queue.model, queue.row_key
    # A materialised CTE runs the pick once: as a plain `IN (subquery)`, PostgreSQL may run it again
    # per row, and SKIP LOCKED then finds the next row each time and the claim takes more than `limit`.
    picked = (select(key.label("key")).where(queue.due(now), *where).order_by(*queue.order).limit(limit)
              .with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED"))
    statement = (update(model)
                 .where(key.in_(select(picked.c.key)), queue.due(now))
                 .values(locked_by=worker, locked_until=now + lease, **(values or {}))
                 .returning(key, *returning)
                 .execution_options(synchronize_session=False))
    rows = executor.execute(statement).all()
    return _oldest_first(executor, queue, rows) if len(rows) > 1 else rows


def _oldest_first(executor, queue: WorkQueue, rows: list[Row]) -> list[Row]:
    """RETURNING gives no order; put several claimed rows back in the queue's order."""
    key = queue.row_key
    ranked = executor.execute(select(key).where(key.in_([r[0] for r in rows])).order_by(*queue.order)).scalars().all()
    position = {row_key: index for index, row_key in enumerate(ranked)}
    return sorted(rows, key=lambda row: position[row[0]])


def renew(executor, queue: WorkQueue, row_id: Any, worker: str, now: datetime, lease: timedelta) -> None:
    """Extend our lease on an open row; LeaseLost if it is no longer ours."""
    model = queue.model
    held = executor.execute(
        update(model).where(queue.row_key == row_id, model.locked_by == worker, queue.open)
        .values(locked_until=now + lease).execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        raise LeaseLost(f"{model.__tablename__} {row_id} is no longer leased to {worker}")


def release(executor, queue: WorkQueue, row_id: Any, worker: str, **values: Any) -> None:
    """Drop our lease and write `values` (the outcome, or when to try again); LeaseLost if not ours."""
    model = queue.model
    released = executor.execute(
        update(model).where(queue.row_key == row_id, model.locked_by == worker)
        .values(locked_by=None, locked_until=None, **values).execution_options(synchronize_session=False)
    ).rowcount
    if released != 1:
        raise LeaseLost(f"{model.__tablename__} {row_id} is no longer leased to {worker}")
