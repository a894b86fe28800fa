"""Numbers leaving the store, and the end of a release: history closed, notice queued once.

A released number's row is deleted (so it can be uploaded again, to any service); its history
row gets `released_at` and stays for metering. "✅ SERVICE: N numbers released" goes to the
release's space through the outbox, once (a compare-and-set on the upload and a dedupe key).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.outbox import queue_message
from provisioning.text import NAME_LIMIT, literal
from store.bulk import chunks
from store.models import Number, NumberHistory, Service, SyncTask, Upload

CHUNK = 5000


def released_text(service_name: str, count: int) -> str:
    return f"✅ {literal(service_name, NAME_LIMIT)}: {count:,} number{'s' if count != 1 else ''} released"


def forget(session: Session, numbers: list[str]) -> int:
    """Delete numbers that never went live (nothing to meter, nothing in Webex)."""
    gone = 0
    for chunk in chunks(sorted(numbers), CHUNK):
        gone += session.execute(delete(Number).where(Number.e164.in_(chunk))
                                .execution_options(synchronize_session=False)).rowcount
    return gone


def release_numbers(session: Session, release_id: int, numbers: list[str], now: datetime) -> int:
    """The poll no longer lists these numbers of the release: close their history, delete them."""
    done = 0
    for chunk in chunks(sorted(numbers), CHUNK):
        session.execute(update(NumberHistory).where(NumberHistory.e164.in_(chunk), NumberHistory.released_at.is_(None))
                        .values(released_at=now, release_id=release_id).execution_options(synchronize_session=False))
        done += session.execute(delete(Number).where(Number.e164.in_(chunk), Number.release_id == release_id)
                                .execution_options(synchronize_session=False)).rowcount
    if done:
        session.execute(update(Upload).where(Upload.id == release_id)
                        .values(released_count=Upload.released_count + done)
                        .execution_options(synchronize_session=False))
    return done


def finish_if_done(session: Session, release_id: int, now: datetime) -> bool:
    """When no number of the release is left: close its task, audit, and queue the notice once."""
    if session.scalar(select(exists().where(Number.release_id == release_id))):
        return False
    won = session.execute(update(Upload).where(Upload.id == release_id, Upload.ready_notified_at.is_(None))
                          .values(ready_notified_at=now).execution_options(synchronize_session=False)).rowcount
    session.execute(update(SyncTask).where(SyncTask.upload_id == release_id, SyncTask.state == "pending")
                    .values(state="done", finished_at=now, locked_by=None, locked_until=None)
                    .execution_options(synchronize_session=False))
    if won != 1:
        return True
    release = session.execute(select(Upload.room_id, Upload.tenant_id, Upload.released_count, Service.name)
                              .join(Service, Service.id == Upload.service_id).where(Upload.id == release_id)).one()
    if release.released_count:
        queue_message(session, release.room_id, released_text(release.name, release.released_count),
                      f"released:{release_id}", now)
    audit(session, "leadsbot", "release.done", f"release {release_id} {release.name}: "
          f"{release.released_count} numbers released", tenant_id=release.tenant_id, room_id=release.room_id)
    return True
