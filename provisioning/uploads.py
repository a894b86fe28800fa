"""Upload life cycle: preview (validate and stage), then submit (all or nothing) or cancel.

A preview stores its valid numbers in `staged_numbers` so that it survives between messages
(and between shell runs); submit copies them into `numbers` with one INSERT ... SELECT inside
one transaction. Checks against the store are set-based queries, never one query per number.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from sqlalchemy import case, delete, exists, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provisioning.directory import Actor, audit, find_service
from provisioning.errors import UserError
from provisioning.numbers import NumberChecker
from provisioning.settings import Settings
from provisioning.upload_options import UploadOptions, check_accepts_numbers, check_options
from provisioning.validation import Invalid, RawEntry, Tally, Valid, validate
from store.bulk import bulk_insert
from store.models import InvalidEntry, Number, Service, StagedNumber, SyncTask, Upload, utcnow

BATCH = 20_000
ALREADY_UPLOADED = "already uploaded to this service"


@dataclass(frozen=True)
class UploadSummary:
    """What the operator is shown about an upload."""

    upload_id: int
    service: str
    state: str
    valid: int
    invalid: int
    already: int
    duplicates: int
    entries: int
    sample_invalid: tuple[Invalid, ...]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _stage(session: Session, upload_id: int, results: Iterable[Valid | Invalid]) -> None:
    """Bulk-insert valid numbers into staging and invalid entries into the report, in batches."""
    for chunk in _chunks(results, BATCH):
        valid = [(upload_id, r.e164, r.row) for r in chunk if type(r) is Valid]
        invalid = [(upload_id, r.row, r.value[:500], r.reason) for r in chunk if type(r) is Invalid]
        if valid:
            bulk_insert(session, StagedNumber.__table__, ("upload_id", "e164", "row"), valid)
        if invalid:
            bulk_insert(session, InvalidEntry.__table__, ("upload_id", "row", "value", "reason"), invalid)


def _move_conflicts(session: Session, upload: Upload, tenant_id: int) -> int:
    """Staged numbers already in the store become report entries; returns how many were already in this service."""
    conflict = (
        select(StagedNumber.row, StagedNumber.e164, Number.service_id, Service.name, Service.tenant_id)
        .join(Number, Number.e164 == StagedNumber.e164)
        .join(Service, Service.id == Number.service_id)
        .where(StagedNumber.upload_id == upload.id)
    ).subquery()
    reason = case(
        (conflict.c.service_id == upload.service_id, literal(ALREADY_UPLOADED)),
        (conflict.c.tenant_id == tenant_id, literal("assigned to service ") + conflict.c.name),
        else_=literal("assigned to a service of another tenant"),
    )
    session.execute(insert(InvalidEntry).from_select(
        ["upload_id", "row", "value", "reason"],
        select(literal(upload.id), conflict.c.row, conflict.c.e164, reason),
    ))
    already = session.scalar(select(func.count()).select_from(InvalidEntry).where(
        InvalidEntry.upload_id == upload.id, InvalidEntry.reason == ALREADY_UPLOADED)) or 0
    session.execute(delete(StagedNumber).where(
        StagedNumber.upload_id == upload.id, exists().where(Number.e164 == StagedNumber.e164)))
    return already


def preview(session: Session, actor: Actor, room_id: str, service_name: str, options: UploadOptions,
            entries: Iterable[RawEntry], settings: Settings, *, source: str, filename: str | None = None) -> UploadSummary:
    """Validate every entry and stage the valid numbers; nothing reaches `numbers` until submit."""
    service = find_service(session, actor, service_name)
    check_accepts_numbers(service)
    checked = check_options(session, actor, service, options)
    upload = Upload(
        tenant_id=actor.tenant_id, service_id=service.id, operator_id=actor.operator_id, room_id=room_id,
        source=source, filename=filename, number_type=checked.number_type, cac=checked.cac,
        calling_profile_id=checked.calling_profile.id, sip_connection_id=checked.sip_connection.id,
        service_info=checked.service_info,
    )
    session.add(upload)
    session.flush()
    tally = Tally()
    checker = NumberChecker(service.country)
    _stage(session, upload.id, validate(entries, checker, max_range=settings.max_range, tally=tally))
    if tally.entries == 0:
        raise UserError("No numbers given. Write them after the options, e.g. `+390212345678` or a range "
                        "`+390212345600-699`, or attach a file (`template` gives one).")
    already = _move_conflicts(session, upload, actor.tenant_id)
    upload.entries = tally.entries
    upload.valid_count = session.scalar(
        select(func.count()).select_from(StagedNumber).where(StagedNumber.upload_id == upload.id)) or 0
    upload.already_count = already
    upload.duplicate_count = tally.duplicates
    upload.invalid_count = tally.invalid + tally.valid - upload.valid_count - already
    audit(session, actor.email, "upload.preview", f"upload {upload.id} {service.name}: {upload.valid_count} valid, "
          f"{upload.invalid_count} invalid", tenant_id=actor.tenant_id, room_id=room_id)
    return summarize(session, upload)


def summarize(session: Session, upload: Upload, sample: int = 10) -> UploadSummary:
    rows = session.scalars(
        select(InvalidEntry).where(InvalidEntry.upload_id == upload.id)
        .order_by(InvalidEntry.row, InvalidEntry.id).limit(sample)
    ).all()
    return UploadSummary(
        upload.id, upload.service.name, upload.state, upload.valid_count, upload.invalid_count,
        upload.already_count, upload.duplicate_count, upload.entries,
        tuple(Invalid(r.row, r.value, r.reason) for r in rows),
    )


def invalid_entries(session: Session, upload_id: int) -> Iterator[tuple[int, str, str]]:
    """Every reported entry of an upload in row order, streamed for the CSV report."""
    result = session.execute(
        select(InvalidEntry.row, InvalidEntry.value, InvalidEntry.reason)
        .where(InvalidEntry.upload_id == upload_id).order_by(InvalidEntry.row, InvalidEntry.id)
        .execution_options(yield_per=5000)
    )
    for row in result:
        yield row.row, row.value, row.reason


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


def submit(session: Session, actor: Actor, room_id: str, upload_id: int | None = None) -> UploadSummary:
    """Store every staged number of the preview in one statement, or nothing (SPEC §2.8)."""
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


def cancel(session: Session, actor: Actor, room_id: str, upload_id: int | None = None) -> UploadSummary:
    upload = find_open_upload(session, actor, room_id, upload_id, lock=True)
    session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id))
    upload.state = "cancelled"
    upload.cancelled_at = utcnow()
    audit(session, actor.email, "upload.cancel", f"upload {upload.id}", tenant_id=actor.tenant_id, room_id=room_id)
    return summarize(session, upload)

