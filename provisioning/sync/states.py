"""Numbers' sync states (pending → pushed → live, or failed): set-based reads and writes.

Batches of up to 100,000 numbers move between states, so writes are chunked `IN` updates
and executemany statements, never one ORM object per number.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from provisioning.metering.history import open_stretches
from store.bulk import chunks
from store.models import NUMBER_STATES, RELEASE_STATES, SYNC_STATES, Number

__all__ = ["RELEASE_STATES", "SYNC_STATES", "doubtful", "fail_remaining", "first_failure", "mark", "mark_with_errors",
           "not_live", "pending_by_type", "upload_counts"]

CHUNK = 5000
NOT_LIVE = ("pending", "pushed")
_numbers = Number.__table__


def pending_by_type(session: Session, upload_id: int) -> dict[str, list[str]]:
    """The upload's pending numbers per number type, in id (upload) order, in one query.

    Read once per pass: while this worker holds the task's lease nobody else changes them.
    """
    found: dict[str, list[str]] = {}
    rows = session.execute(
        select(Number.number_type, Number.e164)
        .where(Number.upload_id == upload_id, Number.sync_state == "pending")
        .order_by(Number.id)
    )
    for number_type, e164 in rows:
        found.setdefault(number_type, []).append(e164)
    return found


def upload_counts(session: Session, upload_id: int) -> Counter:
    rows = session.execute(
        select(Number.sync_state, func.count()).where(Number.upload_id == upload_id).group_by(Number.sync_state)
    ).all()
    return Counter(dict(rows))


def not_live(session: Session, service_id: int) -> set[str]:
    """Numbers of the service still waiting to show up live in Webex."""
    return set(session.scalars(
        select(Number.e164).where(Number.service_id == service_id, Number.sync_state.in_(NOT_LIVE))
    ))


def doubtful(session: Session, service_id: int) -> dict[str, str]:
    """Pushed numbers Webex called "already exists" (with that message): ours only if they
    show up in the location."""
    return dict(session.execute(
        select(Number.e164, Number.sync_error).where(
            Number.service_id == service_id, Number.sync_state == "pushed", Number.sync_error.is_not(None))
    ).all())


def mark(session: Session, numbers: list[str], state: str, *, from_states: tuple[str, ...],
         now: datetime | None = None) -> int:
    """Move `numbers` that are in one of `from_states` to `state`, clearing their errors; numbers
    going live open their metering stretch (`metering.history`).

    Callers pass numbers they just read for one upload or service; e164 is unique across
    services, so the update needs no other key. The guard is written as NOT IN so that the
    unique e164 index is the only index PostgreSQL can pick, even before the freshly
    bulk-inserted rows have statistics (the (service, state) index would be a trap).
    """
    values: dict = {"sync_state": state, "sync_error": None}
    if state == "live":
        values["live_at"] = now
    others = [s for s in NUMBER_STATES if s not in from_states]
    changed = 0
    for chunk in chunks(sorted(numbers), CHUNK):
        statement = (update(Number).where(Number.e164.in_(chunk), Number.sync_state.not_in(others))
                     .values(**values).execution_options(synchronize_session=False))
        if state == "live" and now is not None:
            went_live = session.execute(statement.returning(
                Number.e164, Number.service_id, Number.upload_id, Number.number_type)).all()
            open_stretches(session, went_live, now)
            changed += len(went_live)
        else:
            changed += session.execute(statement).rowcount
    return changed


def mark_with_errors(session: Session, errors: dict[str, str], state: str) -> None:
    """Set `state` and a per-number message on these not-yet-live numbers (one executemany;
    e164 is unique across services)."""
    if not errors:
        return
    statement = (
        update(_numbers)
        .where(_numbers.c.e164 == bindparam("b_e164"),
               *(_numbers.c.sync_state != s for s in NUMBER_STATES if s not in NOT_LIVE))
        .values(sync_state=state, sync_error=bindparam("b_error"))
    )
    session.connection().execute(statement, [{"b_e164": n, "b_error": m} for n, m in errors.items()])


def fail_remaining(session: Session, upload_id: int, reason: str) -> int:
    """Every not-yet-live number of the upload becomes failed with `reason`."""
    return session.execute(
        update(Number)
        .where(Number.upload_id == upload_id, Number.sync_state.in_(NOT_LIVE))
        .values(sync_state="failed", sync_error=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def first_failure(session: Session, upload_id: int) -> tuple[str, str] | None:
    """One failed number of the upload and its message, to name in the failure reason."""
    row = session.execute(
        select(Number.e164, Number.sync_error)
        .where(Number.upload_id == upload_id, Number.sync_state == "failed")
        .order_by(Number.id)
        .limit(1)
    ).first()
    return (row.e164, row.sync_error or "refused") if row else None
