"""What the sync engine tells operators: Ready and failure notices, queued in the outbox.

Notices are rows of the `outbox` table written in the same transaction as the state change
that causes them; the transport sends them. A compare-and-set on the upload plus the
outbox's unique `dedupe_key` make each notice happen once, even with several workers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from provisioning.leads.status import status_counts
from provisioning.outbox import already_queued, queue_message
from provisioning.text import NAME_LIMIT, counted, literal
from store.models import Number, Service, Upload

SUBMITTED = "submitted"


def ready_text(service_name: str, live: int) -> str:
    return f"✅ {literal(service_name, NAME_LIMIT)} is Ready: {counted(live, 'number')} live in Webex"


def failed_text(service_name: str, reason: str, failed: int, total: int) -> str:
    return (
        f"❌ **{literal(service_name, NAME_LIMIT)}**: sync with Webex failed: {reason}\n\n"
        f"{failed:,} of {counted(total, 'number')} of this upload failed. "
        f"Send {literal(f'status {service_name}', NAME_LIMIT + 7)} for details."
    )


def notify_ready(session: Session, service_id: int, now: datetime) -> int:
    """If every number of the service is live, tell each upload's room once; return how many.

    Also clears the service's sync error: a Ready service has nothing failed left.
    """
    counts = status_counts(session, [service_id])[service_id]
    total = sum(counts.values())
    if total == 0 or counts["live"] != total:
        return 0
    service = session.get(Service, service_id)
    if service.sync_error:
        service.sync_error = None
    uploads = session.execute(
        select(Upload.id, Upload.room_id)
        .where(
            Upload.service_id == service_id,
            Upload.state == SUBMITTED,
            Upload.ready_notified_at.is_(None),
            exists().where(Number.upload_id == Upload.id),
        )
        .order_by(Upload.id)
    ).all()
    queued = 0
    for upload_id, room_id in uploads:
        won = session.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.ready_notified_at.is_(None))
            .values(ready_notified_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won == 1:
            queue_message(session, room_id, ready_text(service.name, total), f"ready:{upload_id}", now)
            queued += 1
    return queued


def notify_failed(session: Session, upload_id: int, reason: str, now: datetime) -> None:
    """Set the service's sync error and tell the upload's room (once per upload)."""
    upload = session.get(Upload, upload_id)
    service = session.get(Service, upload.service_id)
    service.sync_error = reason
    by_state = dict(
        session.execute(
            select(Number.sync_state, func.count())
            .where(Number.upload_id == upload_id)
            .group_by(Number.sync_state)
        ).all()
    )
    key = f"sync-failed:{upload_id}"
    if not already_queued(session, key):
        text = failed_text(service.name, reason, by_state.get("failed", 0), sum(by_state.values()))
        queue_message(session, upload.room_id, text, key, now)
