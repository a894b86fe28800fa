"""Numbers Management: find a tenant's numbers by customer, service or number prefix, and export them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import func, or_, select

from provisioning.directory import Actor
from provisioning.errors import UserError
from provisioning.files.exports import csv_bytes
from provisioning.progress import Progress, silent
from provisioning.text import literal
from store.db import Database
from store.models import CallingProfile, Customer, Number, Service, SipConnection, Upload

EXPORT_TICK = 50_000  # rows between progress checks
EXPORT_HEADER = ("Number", "Service", "Customer", "Number Type", "CAC", "Calling Profile", "SIP Connection",
                 "Service Info", "Sync State", "Uploaded")
_PREFIX = re.compile(r"^\+?[\d\s\-().]+$")


@dataclass(frozen=True)
class ServiceCount:
    service: str
    customer: str
    total: int
    by_state: dict[str, int]


@dataclass(frozen=True)
class NumbersFound:
    query: str
    total: int
    services: tuple[ServiceCount, ...]
    first: tuple[tuple, ...]


def _condition(actor: Actor, query: str):
    text = query.strip()
    if not text:
        raise UserError("Say what to look for: a customer, a service or a number prefix, e.g. `numbers +3902`.")
    if _PREFIX.match(text):
        digits = re.sub(r"\D", "", text)
        if not digits:
            raise UserError(f"{literal(query)} has no digits to search for.")
        return Number.e164.startswith("+" + digits)
    wanted = text.lower()
    return or_(func.lower(Customer.name).contains(wanted, autoescape=True),
               func.lower(Service.name).contains(wanted, autoescape=True))


def _base(actor: Actor, query: str, *columns):
    return (
        select(*columns)
        .select_from(Number)
        .join(Service, Service.id == Number.service_id)
        .join(Customer, Customer.id == Service.customer_id)
        .where(Service.tenant_id == actor.tenant_id, _condition(actor, query))
    )


def search(db: Database, actor: Actor, query: str, first: int = 15) -> NumbersFound:
    """Counts per service and sync state, plus the first numbers in order."""
    with db.sessions() as session:
        return _search(session, actor, query, first)


def _search(session, actor: Actor, query: str, first: int) -> NumbersFound:
    counts = session.execute(
        _base(actor, query, Service.name, Customer.name, Number.sync_state, func.count())
        .group_by(Service.name, Customer.name, Number.sync_state).order_by(Service.name)
    ).all()
    by_service: dict[str, tuple[str, dict[str, int]]] = {}
    for service, customer, state, count in counts:
        by_service.setdefault(service, (customer, {}))[1][state] = count
    services = tuple(ServiceCount(name, customer, sum(states.values()), states)
                     for name, (customer, states) in by_service.items())
    rows = session.execute(
        _base(actor, query, Number.e164, Service.name, Number.number_type, Number.sync_state)
        .order_by(Number.e164).limit(first)
    ).all()
    return NumbersFound(query, sum(s.total for s in services), services, tuple(tuple(r) for r in rows))


def export_csv(db: Database, actor: Actor, query: str, progress: Progress | None = None,
               total: int | None = None) -> bytes:
    """The CSV export of every matching number with its settings (`EXPORT_HEADER` columns)."""
    with db.sessions() as session:
        return csv_bytes(EXPORT_HEADER, _export_rows(session, actor, query, progress or silent(), total))


def _export_rows(session, actor: Actor, query: str, progress: Progress, total: int | None) -> Iterator[tuple]:
    """Every matching number with its settings, streamed."""
    statement = (
        _base(actor, query, Number.e164, Service.name, Customer.name, Number.number_type, Upload.cac,
              CallingProfile.name, SipConnection.name, Upload.service_info, Number.sync_state, Number.created_at)
        .join(Upload, Upload.id == Number.upload_id)
        .join(CallingProfile, CallingProfile.id == Upload.calling_profile_id)
        .join(SipConnection, SipConnection.id == Upload.sip_connection_id)
        .order_by(Number.e164)
        .execution_options(yield_per=5000)
    )
    for count, row in enumerate(session.execute(statement)):
        if not count % EXPORT_TICK:
            progress.tick("written to the export", count, total, "number")
        *head, created = row
        yield (*head[:4], "" if head[4] is None else head[4], *head[5:], created.strftime("%Y-%m-%d %H:%M UTC"))
