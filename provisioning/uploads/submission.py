"""Finishing a preview: submit stores every staged number in one statement, or cancel drops them.

Submit is all or nothing (SPEC §2.8): one INSERT ... SELECT inside one transaction, and a
number taken by someone else since the preview stops the whole upload. Who may finish which
preview is SPEC §7: in the preview's space any operator of its tenant, elsewhere only its author.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy import literal as sql_literal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import AccessDenied, Actor
from provisioning.errors import UserError
from provisioning.releases.submission import ReleaseOutcome, submit_release
from provisioning.settings import Settings
from provisioning.text import NAME_LIMIT, literal
from provisioning.uploads.already import keep_in_report, to_store
from provisioning.uploads.options import check_accepts_numbers, check_not_releasing
from provisioning.uploads.previews import UploadSummary, summarize
from store.bulk import refresh_statistics
from store.db import Database
from store.models import INT_MAX, Number, StagedNumber, SyncTask, Upload, utcnow

MAX_UPLOAD_ID = INT_MAX  # the largest id the uploads table holds
EXPIRED = ("expiring", "expired")  # an expiring preview's rows are being deleted (uploads.expiry)


def find_open_upload(session: Session, actor: Actor, room_id: str, upload_id: int | None, *, ttl: timedelta,
                     lock: bool = False) -> Upload:
    """The preview to submit or cancel: the named upload of this tenant, if this operator may
    finish it here, or the operator's latest preview in this space; refused once it expired."""
    query = select(Upload).where(Upload.tenant_id == actor.tenant_id)
    if upload_id is None:
        query = query.where(Upload.room_id == room_id, Upload.operator_id == actor.operator_id,
                            Upload.state.in_(("preview", *EXPIRED))).order_by(Upload.id.desc()).limit(1)
    else:
        query = query.where(Upload.id == upload_id)
    if lock:
        query = query.with_for_update()
    upload = session.scalar(query)
    if upload is None:
        if upload_id is None:
            raise UserError("You have no open preview in this space. Start one with `upload` or `import`.")
        raise UserError(f"No upload #{upload_id} in tenant {literal(actor.tenant_name, NAME_LIMIT)}.")
    if upload.room_id != room_id and upload.operator_id != actor.operator_id:
        raise AccessDenied(f"Sorry, {upload.kind} #{upload.id} was previewed in another space: there any operator "
                           "of the tenant can submit or cancel it, from here only the operator who made it.")
    if upload.state in EXPIRED or (upload.state == "preview" and upload.created_at <= utcnow() - ttl):
        hours = round(ttl.total_seconds() / 3600)
        raise UserError(f"Preview #{upload.id} expired: previews are kept for {hours} hour{'s' if hours != 1 else ''}. "
                        "Nothing was stored; run the upload or import again for a fresh preview.")
    if upload.state != "preview":
        raise UserError(f"{upload.kind.capitalize()} #{upload.id} is already {upload.state}: nothing to do.")
    return upload


def preview_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.preview_ttl_hours)


def submit(db: Database, actor: Actor, room_id: str, upload_id: int | None = None, *,
           settings: Settings) -> UploadSummary | ReleaseOutcome:
    """Store every staged number of the preview in one statement, or nothing (SPEC §2.8); a
    release preview releases its numbers instead, also all or nothing (SPEC §5.3)."""
    with db.sessions.begin() as session:
        return _submit(session, actor, room_id, upload_id, preview_ttl(settings))


def _submit(session: Session, actor: Actor, room_id: str, upload_id: int | None,
            ttl: timedelta) -> UploadSummary | ReleaseOutcome:
    upload = find_open_upload(session, actor, room_id, upload_id, ttl=ttl, lock=True)
    if upload.kind == "release":
        return submit_release(session, actor, room_id, upload)
    service = upload.service
    check_accepts_numbers(service)
    check_not_releasing(session, service)
    if upload.valid_count == 0:
        raise UserError(f"Upload #{upload.id} has no valid numbers to submit. `cancel {upload.id}` drops it.")
    now = utcnow()
    values = {"service_id": service.id, "upload_id": upload.id, "number_type": upload.number_type,
              "sync_state": "pending", "created_at": now}
    constants = [sql_literal(v, Number.__table__.c[k].type) for k, v in values.items()]
    source = select(StagedNumber.e164, *constants).where(*to_store(upload))
    keep_in_report(session, upload)  # before the new numbers are in the store, where they would count
    try:
        with session.begin_nested():
            session.execute(insert(Number).from_select(["e164", *values], source))
    except IntegrityError:
        _refuse_taken(session, upload)
    # synchronize_session=False: no staged row is in the session, and the ORM would otherwise
    # fetch every deleted key (RETURNING) to keep it in step: a million tuples.
    session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id)
                    .execution_options(synchronize_session=False))
    refresh_statistics(session, Number.__table__, upload.valid_count)  # `numbers` and `status` plan for them
    upload.state = "submitted"
    upload.submitted_at = now
    service.last_modified = now
    service.sync_error = None
    session.add(SyncTask(upload_id=upload.id, service_id=service.id, state="pending", next_run_at=now))
    audit(session, actor.email, "upload.submit", f"upload {upload.id} {service.name}: {upload.valid_count} numbers",
          tenant_id=actor.tenant_id, room_id=room_id)
    return summarize(session, upload)


def _refuse_taken(session: Session, upload: Upload) -> None:
    """UserError for a submit whose numbers someone else stored since the preview, with examples.

    Looked for only once the INSERT failed on the unique e164: a million-number submit does not
    join its staged numbers with the store first."""
    taken = session.scalars(
        select(StagedNumber.e164).join(Number, Number.e164 == StagedNumber.e164)
        .where(StagedNumber.upload_id == upload.id,
               *([Number.service_id != upload.service_id] if upload.already_count else []))  # those were skipped
        .order_by(StagedNumber.e164).limit(3)
    ).all()
    if taken:
        raise UserError(
            f"Some numbers of upload #{upload.id} were uploaded by someone else since the preview "
            f"(e.g. {', '.join(taken)}). Nothing was stored: run the upload again for a fresh preview."
        ) from None
    raise UserError(
        f"Some numbers of upload #{upload.id} were uploaded elsewhere at the same moment. "
        "Nothing was stored: run the upload again for a fresh preview."
    ) from None


def cancel(db: Database, actor: Actor, room_id: str, upload_id: int | None = None, *,
           settings: Settings) -> UploadSummary:
    """Drop the preview's staged numbers; its invalid-entry rows stay for the audit trail."""
    with db.sessions.begin() as session:
        upload = find_open_upload(session, actor, room_id, upload_id, ttl=preview_ttl(settings), lock=True)
        if upload.kind != "release":
            keep_in_report(session, upload)
        session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id)
                        .execution_options(synchronize_session=False))
        upload.state = "cancelled"
        upload.cancelled_at = utcnow()
        audit(session, actor.email, f"{upload.kind}.cancel", f"{upload.kind} {upload.id}", tenant_id=actor.tenant_id,
              room_id=room_id)
        return summarize(session, upload)

