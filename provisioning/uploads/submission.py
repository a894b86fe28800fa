"""Finishing a preview: submit stores every staged number in one statement, or cancel drops them.

Submit is all or nothing (SPEC §2.8): one INSERT ... SELECT inside one transaction, and a
number taken by someone else since the preview stops the whole upload.
"""
from __future__ import annotations

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import Actor
from provisioning.errors import UserError
from provisioning.uploads.options import check_accepts_numbers
from provisioning.uploads.previews import UploadSummary, summarize
from store.db import Database
from store.models import INT_MAX, Number, StagedNumber, SyncTask, Upload, utcnow

MAX_UPLOAD_ID = INT_MAX  # the largest id the uploads table holds


def find_open_upload(session: Session, actor: Actor, room_id: str, upload_id: int | None, *, lock: bool = False) -> Upload:
    """The named upload of this tenant, or the operator's latest open preview in this space."""
    query = select(Upload).where(Upload.tenant_id == actor.tenant_id)
    if upload_id is None:
        query = query.where(Upload.room_id == room_id, Upload.operator_id == actor.operator_id,
                            Upload.state == "preview").order_by(Upload.id.desc()).limit(1)
    else:
        query = query.where(Upload.id == upload_id)
    if lock:
        query = query.with_for_update()
    upload = session.scalar(query)
    if upload is None:
        if upload_id is None:
            raise UserError("You have no open preview in this space. Start one with `upload` or `import`.")
        raise UserError(f"No upload #{upload_id} in tenant {actor.tenant_name}.")
    if upload.state != "preview":
        raise UserError(f"Upload #{upload.id} is already {upload.state}: nothing to do.")
    return upload


def submit(db: Database, actor: Actor, room_id: str, upload_id: int | None = None) -> UploadSummary:
    """Store every staged number of the preview in one statement, or nothing (SPEC §2.8)."""
    with db.sessions.begin() as session:
        return _submit(session, actor, room_id, upload_id)


def _submit(session: Session, actor: Actor, room_id: str, upload_id: int | None) -> UploadSummary:
    upload = find_open_upload(session, actor, room_id, upload_id, lock=True)
    service = upload.service
    check_accepts_numbers(service)
    if upload.valid_count == 0:
        raise UserError(f"Upload #{upload.id} has no valid numbers to submit. `cancel {upload.id}` drops it.")
    taken = session.scalars(
        select(StagedNumber.e164).join(Number, Number.e164 == StagedNumber.e164)
        .where(StagedNumber.upload_id == upload.id).limit(3)
    ).all()
    if taken:
        raise UserError(
            f"Some numbers of upload #{upload.id} were uploaded by someone else since the preview "
            f"(e.g. {', '.join(taken)}). Nothing was stored: run the upload again for a fresh preview."
        )
    now = utcnow()
    values = {"service_id": service.id, "upload_id": upload.id, "number_type": upload.number_type,
              "sync_state": "pending", "created_at": now}
    constants = [literal(v, Number.__table__.c[k].type) for k, v in values.items()]
    source = select(StagedNumber.e164, *constants).where(StagedNumber.upload_id == upload.id)
    try:
        with session.begin_nested():
            session.execute(insert(Number).from_select(["e164", *values], source))
    except IntegrityError:
        raise UserError(
            f"Some numbers of upload #{upload.id} were uploaded elsewhere at the same moment. "
            "Nothing was stored: run the upload again for a fresh preview."
        ) from None
    session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id))
    upload.state = "submitted"
    upload.submitted_at = now
    service.last_modified = now
    service.sync_error = None
    session.add(SyncTask(upload_id=upload.id, service_id=service.id, state="pending", next_run_at=now))
    audit(session, actor.email, "upload.submit", f"upload {upload.id} {service.name}: {upload.valid_count} numbers",
          tenant_id=actor.tenant_id, room_id=room_id)
    return summarize(session, upload)


def cancel(db: Database, actor: Actor, room_id: str, upload_id: int | None = None) -> UploadSummary:
    """Drop the preview's staged numbers; its invalid-entry rows stay for the audit trail."""
    with db.sessions.begin() as session:
        upload = find_open_upload(session, actor, room_id, upload_id, lock=True)
        session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id))
        upload.state = "cancelled"
        upload.cancelled_at = utcnow()
        audit(session, actor.email, "upload.cancel", f"upload {upload.id}", tenant_id=actor.tenant_id,
              room_id=room_id)
        return summarize(session, upload)

