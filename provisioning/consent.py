"""Live customer consent (SPEC §5.1): an organization is consented while a Service App token can be had.

With a Service App configured, each customer organization has an `organization_consents` row.
It is `pending` until an organization token is obtained, re-checked on a schedule with backoff
per org (and at once on a `serviceApp` `authorized` webhook); a `deauthorized` event or a token
Webex keeps refusing makes it `pending` again. Sync of a pending org waits (nothing is failed
or lost) and resumes when consent returns. Each grant and withdrawal is told once, through the
outbox, to the spaces that uploaded to the org's services or follow their tenant's digest.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from provisioning.backoff import Backoff
from provisioning.outbox import queue_message
from provisioning.sync.port import ConsentMissing
from provisioning.text import NAME_LIMIT, literal
from store.db import Database
from store.models import Customer, DigestSubscription, OrganizationConsent, Service, SyncTask, Upload

log = logging.getLogger(__name__)

PENDING = "pending"
CONSENTED = "consented"
CHECK_CAP_SECONDS = 900.0  # a pending org is asked again at least every 15 minutes
DEAUTHORIZED = "the customer's admin withdrew the Service App's authorization in Control Hub"


@dataclass
class ConsentReport:
    """What one round of checks found."""

    checked: int = 0
    granted: int = 0
    missing: int = 0
    unreachable: int = 0


def awaiting(session: Session, org_ids: Iterable[str]) -> set[str]:
    """The orgs among `org_ids` that have a consent row which is not consented."""
    ids = sorted(set(org_ids))
    if not ids:
        return set()
    return set(session.scalars(select(OrganizationConsent.org_id).where(
        OrganizationConsent.org_id.in_(ids), OrganizationConsent.state != CONSENTED)))


def waiting_reason(session: Session, org_id: str) -> str | None:
    """Why an org still has no consent (what `status` shows), or None when it has it or is not tracked."""
    row = session.get(OrganizationConsent, org_id)
    if row is None or row.state == CONSENTED:
        return None
    return f"waiting for the customer's consent: {row.last_error or 'not checked yet'}"


def consented(session: Session, org_id: str) -> bool:
    return session.scalar(select(OrganizationConsent.state).where(OrganizationConsent.org_id == org_id)) == CONSENTED


def track(session: Session, org_id: str, now: datetime) -> OrganizationConsent:
    """The org's consent row, created pending (due at once) when it has none."""
    return _row(session, org_id, now)


def _row(session: Session, org_id: str, now: datetime) -> OrganizationConsent:
    _insert_missing(session, [org_id], now)
    return session.get(OrganizationConsent, org_id, with_for_update=session.bind.dialect.name == "postgresql")


def _insert_missing(session: Session, org_ids: list[str], now: datetime) -> None:
    """Pending rows for these orgs unless they have one; safe when two workers race (ON CONFLICT)."""
    if not org_ids:
        return
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(OrganizationConsent.__table__).values([
        {"org_id": org_id, "state": PENDING, "next_check_at": now, "attempts": 0, "changes": 0}
        for org_id in org_ids]).on_conflict_do_nothing(index_elements=["org_id"]))


def track_all(session: Session, now: datetime) -> int:
    """Give every service's organization a consent row (pending, checked at once); how many were new."""
    known = set(session.scalars(select(OrganizationConsent.org_id)))
    new = sorted(set(session.scalars(select(Service.org_id).distinct())) - known)
    _insert_missing(session, new, now)
    return len(new)


def request_check(session: Session, org_id: str, now: datetime) -> None:
    """Check this org at the next round (a `serviceApp` `authorized` event, or sync meeting a new org)."""
    row = _row(session, org_id, now)
    if row.state != CONSENTED:
        row.next_check_at = now


def due(session: Session, now: datetime, limit: int = 100) -> list[str]:
    return list(session.scalars(
        select(OrganizationConsent.org_id)
        .where(OrganizationConsent.state == PENDING, OrganizationConsent.next_check_at <= now)
        .order_by(OrganizationConsent.next_check_at, OrganizationConsent.org_id).limit(limit)))


def granted(session: Session, org_id: str, now: datetime) -> bool:
    """An org token was obtained: consent on, sync resumes, spaces told. False when already known."""
    row = _row(session, org_id, now)
    row.checked_at, row.attempts, row.last_error = now, 0, None
    if row.state == CONSENTED:
        return False
    row.state, row.consented_on, row.changes = CONSENTED, now, row.changes + 1
    services = _services(session, org_id)
    ids = [s.id for s, _ in services]
    if ids:
        session.execute(update(Service).where(Service.id.in_(ids), Service.consented_on.is_(None))
                        .values(consented_on=now).execution_options(synchronize_session=False))
        session.execute(update(SyncTask).where(SyncTask.service_id.in_(ids), SyncTask.state == "pending")
                        .values(next_run_at=now).execution_options(synchronize_session=False))
    _tell(session, org_id, row.changes, services, now, granted_text)
    log.info("organization %s consented", org_id)
    return True


def missing(session: Session, org_id: str, reason: str, now: datetime, delay: float) -> bool:
    """No org token: pending (again), next check after `delay`. True when consent was just lost."""
    row = _row(session, org_id, now)
    was = row.state == CONSENTED
    row.state, row.checked_at, row.last_error = PENDING, now, reason[:2000]
    row.attempts = 0 if was else row.attempts + 1
    row.next_check_at = now + timedelta(seconds=delay)
    if was:
        row.changes += 1
        _tell(session, org_id, row.changes, _services(session, org_id), now, withdrawn_text)
        log.warning("organization %s: consent lost (%s); its sync is paused", org_id, reason)
    return was


def unreachable(session: Session, org_id: str, reason: str, now: datetime, delay: float) -> None:
    """The check itself failed (token endpoint down, slow or garbled): nothing known, ask again later."""
    row = _row(session, org_id, now)
    row.attempts += 1
    row.checked_at, row.last_error = now, f"could not check consent: {reason}"[:2000]
    row.next_check_at = now + timedelta(seconds=delay)


def check_due(db: Database, probe: Callable[[str], object], now: datetime, backoff: Backoff) -> ConsentReport:
    """Ask Webex for a token for every due org; `probe(org_id)` raises ConsentMissing when it cannot."""
    report = ConsentReport()
    with db.sessions.begin() as session:
        track_all(session, now)
        orgs = due(session, now)
    for org_id in orgs:
        check_org(db, org_id, probe, now, backoff, report)
    return report


def check_org(db: Database, org_id: str, probe: Callable[[str], object], now: datetime, backoff: Backoff,
              report: ConsentReport | None = None) -> ConsentReport:
    """Ask Webex for one org's token now and record what that says about consent."""
    report = report if report is not None else ConsentReport()
    report.checked += 1
    with db.sessions() as session:
        attempts = session.scalar(select(OrganizationConsent.attempts)
                                  .where(OrganizationConsent.org_id == org_id)) or 0
    delay = backoff.delay(attempts + 1)
    try:
        probe(org_id)  # no transaction is held while Webex is asked
    except ConsentMissing as exc:
        report.missing += 1
        with db.sessions.begin() as session:
            missing(session, org_id, str(exc), now, delay)
    except Exception as exc:  # the token endpoint is down, slow or answered garbage
        report.unreachable += 1
        log.warning("consent check of %s failed: %s", org_id, _first_line(exc))
        with db.sessions.begin() as session:
            unreachable(session, org_id, _first_line(exc), now, delay)
    else:
        with db.sessions.begin() as session:
            report.granted += granted(session, org_id, now)
    return report


def consent_backoff(poll_seconds: float) -> Backoff:
    """Per-org re-check delays: the poll interval at first, doubling up to 15 minutes."""
    return Backoff(base=max(1.0, float(poll_seconds)), cap=CHECK_CAP_SECONDS)


# telling the spaces ------------------------------------------------------------------------------
def granted_text(customer: str, names: list[str]) -> str:
    return f"✅ {literal(customer, NAME_LIMIT)} consented: {_names(names)} can sync"


def withdrawn_text(customer: str, names: list[str]) -> str:
    verb = "is" if len(names) == 1 else "are"
    return (f"⏸ {literal(customer, NAME_LIMIT)} withdrew consent: {_names(names)} {verb} Pending Consent. "
            "Sync is paused; nothing is lost, and it resumes when the customer's admin authorizes the "
            "Service App again.")


def _names(names: list[str]) -> str:
    return ", ".join(literal(n, NAME_LIMIT) for n in names)


def _services(session: Session, org_id: str) -> list[tuple[Service, str]]:
    rows = session.execute(select(Service, Customer.name).join(Customer, Customer.id == Service.customer_id)
                           .where(Service.org_id == org_id).order_by(Service.name))
    return [(service, customer) for service, customer in rows]


def _tell(session: Session, org_id: str, change: int, services: list[tuple[Service, str]], now: datetime,
          text: Callable[[str, list[str]], str]) -> None:
    """One message per space concerned, naming the org's services that space deals with."""
    rooms: dict[str, set[int]] = {}
    by_id = {s.id: (s, customer) for s, customer in services}
    if not by_id:
        return
    for room_id, service_id in session.execute(
            select(Upload.room_id, Upload.service_id).distinct()
            .where(Upload.service_id.in_(list(by_id)), Upload.state == "submitted")):
        rooms.setdefault(room_id, set()).add(service_id)
    tenants = {s.tenant_id for s, _ in services}
    for room_id, tenant_id in session.execute(
            select(DigestSubscription.room_id, DigestSubscription.tenant_id)
            .where(DigestSubscription.tenant_id.in_(sorted(tenants)))):
        rooms.setdefault(room_id, set()).update(s.id for s, _ in services if s.tenant_id == tenant_id)
    for room_id, ids in sorted(rooms.items()):
        chosen = [by_id[i] for i in sorted(ids, key=lambda i: by_id[i][0].name)]
        customer = chosen[0][1]
        digest = hashlib.sha256(f"{org_id}\n{room_id}".encode()).hexdigest()[:32]
        queue_message(session, room_id, text(customer, [s.name for s, _ in chosen]),
                      f"consent:{change}:{digest}", now)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
