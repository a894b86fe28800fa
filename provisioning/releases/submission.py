"""Submitting a release: all or nothing, in one transaction (SPEC §5.3).

Every staged number must still be a releasable number of the service, else nothing changes.
Numbers never pushed leave at once; the others become `removing` with this release's id, and
a sync task (kind "release", the same durable queue as uploads) removes them and watches them go.
A pending number whose upload a worker is pushing right now may reach Webex after all: it is
treated as pushed, and the removal pass waits for that worker before deciding.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from provisioning import consent
from provisioning.audit import audit
from provisioning.directory import Actor
from provisioning.errors import UserError
from provisioning.releases.decision import HOLD, leaves_at_once, removal_decision
from provisioning.releases.done import finish_if_done, forget
from provisioning.text import NAME_LIMIT, literal
from store.models import SYNC_STATES, Number, StagedNumber, SyncTask, Upload, utcnow


@dataclass(frozen=True)
class ReleaseOutcome:
    """What submit did: numbers gone at once, numbers waiting for Webex or the customer, and why held."""

    release_id: int
    service: str
    mode: str
    released: int
    removing: int
    held: str | None


def submit_release(session: Session, actor: Actor, room_id: str, upload: Upload) -> ReleaseOutcome:
    """Release the staged numbers of `upload` (a locked release preview) or refuse with nothing changed."""
    service = upload.service
    if upload.valid_count == 0:
        raise UserError(f"Release #{upload.id} has no numbers of {literal(service.name, NAME_LIMIT)} to release. "
                        f"`cancel {upload.id}` drops it.")
    staged = select(StagedNumber.e164).where(StagedNumber.upload_id == upload.id)
    releasable = (Number.service_id == service.id, Number.sync_state.in_(SYNC_STATES))
    rows = session.execute(
        select(Number.e164, Number.sync_state, Number.upload_id).where(Number.e164.in_(staged), *releasable)
        .with_for_update()
    ).all()
    if len(rows) != upload.valid_count:
        still = exists().where(Number.e164 == StagedNumber.e164, *releasable)
        gone = session.scalars(staged.where(~still).order_by(StagedNumber.row).limit(3)).all()
        raise UserError(
            f"Some numbers of release #{upload.id} are no longer numbers of {literal(service.name, NAME_LIMIT)} that "
            "can be released "
            f"(e.g. {', '.join(gone)}): they were released or changed since the preview. Nothing was released: "
            "run the release again for a fresh preview.")
    now = utcnow()
    in_flight = _uploads_being_pushed(session, {r.upload_id for r in rows if r.sync_state == "pending"}, now)
    at_once = [r.e164 for r in rows if leaves_at_once(service, r.sync_state, r.upload_id in in_flight)]
    later = len(rows) - len(at_once)
    session.execute(update(Number).where(Number.e164.in_(staged)).values(sync_state="removing", release_id=upload.id)
                    .execution_options(synchronize_session=False))
    forget(session, at_once)
    if later:
        session.add(SyncTask(upload_id=upload.id, service_id=service.id, state="pending", next_run_at=now))
    session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id))
    upload.state = "submitted"
    upload.submitted_at = now
    service.last_modified = now
    upload.released_count = len(at_once)
    session.flush()
    audit(session, actor.email, "release.submit", f"release {upload.id} {service.name}: {len(rows)} numbers "
          f"({len(at_once)} at once, {later} via {'Webex' if service.mode == 'integrated' else 'the customer'}): "
          f"{_sample(rows)}", tenant_id=actor.tenant_id, room_id=room_id)
    if not later:
        finish_if_done(session, upload.id, now)
    decision = removal_decision(service, bool(consent.awaiting(session, [service.org_id])))
    return ReleaseOutcome(upload.id, service.name, service.mode, len(at_once), later,
                          decision.reason if later and decision.action == HOLD else None)


def _uploads_being_pushed(session: Session, upload_ids: set[int], now: datetime) -> set[int]:
    """Uploads whose sync task a worker holds now (it may be posting their pending numbers).
    The rows are locked, so a worker cannot claim one of them until this release is committed."""
    if not upload_ids:
        return set()
    tasks = session.execute(select(SyncTask.upload_id, SyncTask.locked_until).where(
        SyncTask.upload_id.in_(upload_ids), SyncTask.state == "pending").with_for_update()).all()
    return {t.upload_id for t in tasks if t.locked_until is not None and t.locked_until > now}


def _sample(rows, shown: int = 5) -> str:
    numbers = sorted(r.e164 for r in rows)
    return ", ".join(numbers[:shown]) + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")
