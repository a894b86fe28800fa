"""Heartbeats: one row per background role, overwritten on every beat.

The scheduler beats from whichever process runs it; the web process's /healthz and
`leadsbot doctor` read the age. The row is an upsert, so any number of schedulers share it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from store.db import Database
from store.models import Heartbeat, utcnow

SCHEDULER = "scheduler"


def beat(db: Database, name: str, worker: str, at: datetime | None = None) -> None:
    """Record that `worker` (a process's id) running `name` is alive now (or at `at`)."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    at = at or utcnow()
    statement = insert(Heartbeat.__table__).values(name=name, beat_at=at, worker=worker)
    statement = statement.on_conflict_do_update(index_elements=["name"],
                                                set_={"beat_at": at, "worker": worker})
    with db.engine.begin() as conn:
        conn.execute(statement)


def last_beat(db: Database, name: str) -> datetime | None:
    """When `name` last beat, or None when it never has."""
    with db.engine.connect() as conn:
        return conn.execute(select(Heartbeat.beat_at).where(Heartbeat.name == name)).scalar()


def age_seconds(db: Database, name: str) -> float | None:
    at = last_beat(db, name)
    return None if at is None else max(0.0, (utcnow() - at).total_seconds())
