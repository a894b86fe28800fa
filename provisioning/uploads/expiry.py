"""Previews nobody submits or cancels expire after PREVIEW_TTL_HOURS (SPEC §3): their staged
numbers and invalid-rows report are deleted, so abandoned previews never grow the database.

Safe with any number of schedulers at once. One UPDATE turns every preview past its time into
`expiring` (a submit or cancel in progress holds the upload's row lock, so the two never mix).
Then the rows of one expiring upload at a time are deleted in bounded batches, each in its own
short transaction that locks the upload row (SKIP LOCKED: another worker takes another upload);
the batch that finds nothing left marks the upload `expired`. (SQLite has no row locks, but runs
one writer at a time, so workers there simply take turns at the same upload.) A run stops after its time budget
and the next run carries on, so a preview of a million numbers never holds one long transaction.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from provisioning.audit import audit
from provisioning.settings import Settings
from store.db import Database
from store.models import InvalidEntry, StagedNumber, Upload, utcnow

BATCH = 10_000          # rows deleted per transaction
BUDGET_SECONDS = 20.0   # per run; the job runs every minute


@dataclass
class ExpiryReport:
    expired: int = 0   # previews that ran out of time in this run
    deleted: int = 0   # staged numbers and report rows deleted
    done: int = 0      # uploads whose rows are all gone


def expire_previews(db: Database, settings: Settings, now: datetime | None = None, *, batch: int = BATCH,
                    budget_seconds: float = BUDGET_SECONDS,
                    clock: Callable[[], float] = time.monotonic) -> ExpiryReport:
    """Mark previews older than the TTL expiring, then delete their rows batch by batch."""
    now = now or utcnow()
    report = ExpiryReport()
    with db.sessions.begin() as session:
        report.expired = _mark_expiring(session, now - timedelta(hours=settings.preview_ttl_hours),
                                        settings.preview_ttl_hours)
    deadline = clock() + budget_seconds
    while clock() < deadline:
        with db.sessions.begin() as session:
            upload_id = session.scalar(select(Upload.id).where(Upload.state == "expiring").order_by(Upload.id)
                                       .limit(1).with_for_update(skip_locked=True))
            if upload_id is None:
                break
            deleted, finished = _purge_batch(session, upload_id, batch)
        report.deleted += deleted
        report.done += finished
    return report


def _mark_expiring(session: Session, cutoff: datetime, hours: int) -> int:
    expired = session.execute(
        update(Upload).where(Upload.state == "preview", Upload.created_at <= cutoff).values(state="expiring")
        .returning(Upload.id, Upload.tenant_id, Upload.room_id).execution_options(synchronize_session=False)
    ).all()
    for upload_id, tenant_id, room_id in expired:
        audit(session, "leadsbot", "upload.expire", f"upload {upload_id}: neither submitted nor cancelled "
              f"within {hours} hours", tenant_id=tenant_id, room_id=room_id)
    return len(expired)


def _purge_batch(session: Session, upload_id: int, batch: int) -> tuple[int, bool]:
    """Delete up to `batch` rows of the (locked) upload; (rows deleted, whether none are left)."""
    left = batch
    for model, key in ((StagedNumber, "e164"), (InvalidEntry, "id")):
        other = aliased(model)
        picked = select(getattr(other, key)).where(other.upload_id == upload_id).limit(left)
        left -= session.execute(
            delete(model).where(model.upload_id == upload_id, getattr(model, key).in_(picked))
            .execution_options(synchronize_session=False)
        ).rowcount
        if left == 0:
            return batch, False
    finished = session.execute(update(Upload).where(Upload.id == upload_id, Upload.state == "expiring")
                               .values(state="expired").execution_options(synchronize_session=False)).rowcount
    return batch - left, finished == 1  # SQLite takes no row lock: another worker may have finished it
