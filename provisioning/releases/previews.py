"""Release previews: the same entries, limits, staging and expiry as an upload preview (an Upload
row of kind "release"), then each staged number is kept only if it is a number of this service.

The others become report entries saying why: "not in this service" (unknown here, or of another
tenant, which is never named), "in service X", or "already being released".
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy import literal as sql_literal
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import Actor, find_service
from provisioning.errors import UserError
from provisioning.numbers.e164 import NumberChecker
from provisioning.numbers.limits import count_numbers
from provisioning.numbers.validation import Tally, validate
from provisioning.settings import Settings
from provisioning.text import NAME_LIMIT, literal
from provisioning.uploads.previews import Entries, UploadSummary, _stage, summarize
from store.db import Database
from store.models import RELEASE_STATES, SYNC_STATES, InvalidEntry, Number, Service, StagedNumber, Upload

NOT_HERE = "not in this service"
BEING_RELEASED = "already being released"
IN_SERVICE = "in service "


@dataclass(frozen=True)
class ReleasePreview:
    """An upload summary plus the reasons entries were left out, with their counts."""

    summary: UploadSummary
    left_out: tuple[tuple[str, int], ...]


def release_preview(db: Database, actor: Actor, room_id: str, service_name: str, entries: Entries,
                    settings: Settings, *, source: str, filename: str | None = None) -> ReleasePreview:
    """Validate the entries and stage the numbers of this service; nothing changes until submit."""
    with db.sessions.begin() as session:
        service = find_service(session, actor, service_name)
        checker = NumberChecker(service.country)
        count_numbers(entries(), checker, max_range=settings.max_range, limit=settings.max_upload_numbers,
                      what="release", unit="row" if source == "file" else "entry")
        upload = Upload(tenant_id=actor.tenant_id, service_id=service.id, operator_id=actor.operator_id,
                        room_id=room_id, kind="release", source=source, filename=filename, number_type="")
        session.add(upload)
        session.flush()
        tally = Tally()
        _stage(session, upload.id, validate(entries(), checker, max_range=settings.max_range, tally=tally))
        if tally.entries == 0:
            raise UserError("No numbers given. Write the numbers or ranges to release after the service, "
                            "e.g. `release roma-cc +390212345600-699`, or attach a file.")
        _leave_out_others(session, upload, service)
        upload.entries = tally.entries
        upload.valid_count = session.scalar(
            select(func.count()).select_from(StagedNumber).where(StagedNumber.upload_id == upload.id)) or 0
        upload.duplicate_count = tally.duplicates
        upload.invalid_count = tally.invalid + tally.valid - upload.valid_count
        audit(session, actor.email, "release.preview", f"release {upload.id} {service.name}: "
              f"{upload.valid_count} to release, {upload.invalid_count} left out", tenant_id=actor.tenant_id,
              room_id=room_id)
        return ReleasePreview(summarize(session, upload), left_out(session, upload.id))


def _leave_out_others(session: Session, upload: Upload, service: Service) -> None:
    """Staged numbers that are not releasable numbers of this service become report entries."""
    other = select(Service.id, Service.name, Service.tenant_id).subquery()
    found = (
        select(StagedNumber.row, StagedNumber.e164, Number.service_id, Number.sync_state, other.c.name,
               other.c.tenant_id)
        .outerjoin(Number, Number.e164 == StagedNumber.e164)
        .outerjoin(other, other.c.id == Number.service_id)
        .where(StagedNumber.upload_id == upload.id)
    ).subquery()
    reason = case(
        (found.c.service_id.is_(None), sql_literal(NOT_HERE)),
        (and_(found.c.service_id == service.id, found.c.sync_state.in_(RELEASE_STATES)), sql_literal(BEING_RELEASED)),
        (found.c.tenant_id == service.tenant_id, sql_literal(IN_SERVICE) + found.c.name),
        else_=sql_literal(NOT_HERE),
    )
    session.execute(insert(InvalidEntry).from_select(
        ["upload_id", "row", "value", "reason"],
        select(sql_literal(upload.id), found.c.row, found.c.e164, reason).where(
            (found.c.service_id.is_(None)) | (found.c.service_id != service.id)
            | found.c.sync_state.not_in(SYNC_STATES))
        .order_by(found.c.row, found.c.e164),  # ids in number order: the sample groups a range's runs
    ))
    _show_in_service_names(session, upload.id)
    # The left-out numbers are exactly the report's values just written (a NOT EXISTS on numbers would
    # let PostgreSQL probe the (service, state) index once per staged row before it has statistics).
    left = select(InvalidEntry.value).where(InvalidEntry.upload_id == upload.id)
    session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id, StagedNumber.e164.in_(left)))


def _show_in_service_names(session: Session, upload_id: int) -> None:
    """"in service NAME" shows the name literally, like an upload's "assigned to service NAME"."""
    rows = session.scalars(select(InvalidEntry.reason).where(
        InvalidEntry.upload_id == upload_id, InvalidEntry.reason.startswith(IN_SERVICE, autoescape=True)).distinct())
    for raw in rows.all():
        session.execute(update(InvalidEntry).where(InvalidEntry.upload_id == upload_id, InvalidEntry.reason == raw)
                        .values(reason=IN_SERVICE + literal(raw[len(IN_SERVICE):], NAME_LIMIT))
                        .execution_options(synchronize_session=False))


def left_out(session: Session, upload_id: int, limit: int = 5) -> tuple[tuple[str, int], ...]:
    """The most frequent reasons entries were left out of a release, with their counts."""
    count = func.count().label("n")
    rows = session.execute(select(InvalidEntry.reason, count).where(InvalidEntry.upload_id == upload_id)
                           .group_by(InvalidEntry.reason).order_by(count.desc(), InvalidEntry.reason).limit(limit))
    return tuple((reason, n) for reason, n in rows)
