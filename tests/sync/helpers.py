"""Small read-side helpers shared by the sync tests."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from provisioning.leads.status import derive_status, status_counts
from store.models import Number, OutboxMessage, Service, SyncTask, Upload


def number_states(db, upload_id: int | None = None) -> Counter:
    with db.sessions() as session:
        query = select(Number.sync_state, func.count()).group_by(Number.sync_state)
        if upload_id is not None:
            query = query.where(Number.upload_id == upload_id)
        return Counter(dict(session.execute(query).all()))


def outbox(db) -> list[OutboxMessage]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def task_of(db, upload_id: int) -> SyncTask:
    with db.sessions() as session:
        return session.scalar(select(SyncTask).where(SyncTask.upload_id == upload_id))


def upload(db, upload_id: int) -> Upload:
    with db.sessions() as session:
        return session.get(Upload, upload_id)


def status_of(db, service_id: int):
    with db.sessions() as session:
        service = session.get(Service, service_id)
        return derive_status(service, status_counts(session, [service_id])[service_id])


def errors_of(db, state: str = "failed") -> dict[str, str]:
    with db.sessions() as session:
        return dict(session.execute(
            select(Number.e164, Number.sync_error).where(Number.sync_state == state)
        ).all())
