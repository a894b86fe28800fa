"""Numbers Management: find a tenant's numbers by customer, service or number prefix, and export them.

A query first becomes the matching services of the tenant (a few rows) and, for a prefix, a
range of E.164 text; the numbers table is then read by `service_id` and `e164` alone, with no
join, so counting a million numbers is one index or table scan (see `numbers_export` for the
export). A prefix is a range (`+3902` <= e164 < `+3903`), not LIKE: both databases answer it
from the e164 index (E.164 is compared byte by byte, see store.models.E164).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from provisioning.directory import Actor
from provisioning.errors import UserError
from provisioning.text import literal
from store.db import Database
from store.models import Customer, Number, Service

_PREFIX = re.compile(r"^\+?[\d\s\-().]+$")
SORT_AT_MOST = 10_000  # matches sorted for the first rows; beyond, they are read in e164 index order


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


@dataclass(frozen=True)
class Match:
    """What a query selects: numbers of these services (id -> (service, customer)), within
    [low, high) when it is a number prefix."""

    services: dict[int, tuple[str, str]]
    low: str | None = None
    high: str | None = None

    def where(self, by_service_index: bool = True) -> list:
        """The conditions on `numbers` alone. Without `by_service_index` the service test is
        written so that no index serves it (`service_id + 0`): the first numbers in e164 order
        are then read from the e164 index, instead of sorting every number of the services
        (SQLite, which keeps no statistics, would otherwise sort a million rows for 15)."""
        service = Number.service_id if by_service_index else Number.service_id + 0
        conditions = [service.in_(sorted(self.services))]
        if self.low is not None:
            conditions += [Number.e164 >= self.low, Number.e164 < self.high]
        return conditions


def prefix_range(digits: str) -> tuple[str, str]:
    """["+digits", next) in byte order: every E.164 starting with +digits, and nothing else
    (a digit's successor ':' sorts after every digit)."""
    low = "+" + digits
    return low, low[:-1] + chr(ord(low[-1]) + 1)


def match(session: Session, actor: Actor, query: str) -> Match:
    """The tenant's services a query names (a customer or service name part), or all of them with
    the number range of a prefix."""
    text = query.strip()
    if not text:
        raise UserError("Say what to look for: a customer, a service or a number prefix, e.g. `numbers +3902`.")
    statement = (select(Service.id, Service.name, Customer.name).join(Customer, Customer.id == Service.customer_id)
                 .where(Service.tenant_id == actor.tenant_id))
    low = high = None
    if _PREFIX.match(text):
        digits = re.sub(r"\D", "", text)
        if not digits:
            raise UserError(f"{literal(query)} has no digits to search for.")
        low, high = prefix_range(digits)
    else:
        wanted = text.lower()
        statement = statement.where(or_(func.lower(Customer.name).contains(wanted, autoescape=True),
                                        func.lower(Service.name).contains(wanted, autoescape=True)))
    services = {service_id: (service, customer) for service_id, service, customer in session.execute(statement)}
    return Match(services, low, high)


def search(db: Database, actor: Actor, query: str, first: int = 15) -> NumbersFound:
    """Counts per service and sync state, plus the first numbers in order."""
    with db.sessions() as session:
        return _search(session, actor, query, first)


def _search(session: Session, actor: Actor, query: str, first: int) -> NumbersFound:
    found = match(session, actor, query)
    if not found.services:
        return NumbersFound(query, 0, (), ())
    counts = session.execute(
        select(Number.service_id, Number.sync_state, func.count()).where(*found.where())
        .group_by(Number.service_id, Number.sync_state)
    ).all()
    by_service: dict[int, dict[str, int]] = {}
    for service_id, state, count in counts:
        by_service.setdefault(service_id, {})[state] = count
    services = tuple(sorted((ServiceCount(*found.services[service_id], sum(states.values()), states)
                             for service_id, states in by_service.items()), key=lambda item: item.service))
    total = sum(item.total for item in services)
    rows = session.execute(
        select(Number.e164, Number.service_id, Number.number_type, Number.sync_state)
        .where(*found.where(by_service_index=total <= SORT_AT_MOST)).order_by(Number.e164).limit(first)
    ).all()
    listed = tuple((e164, found.services[service_id][0], number_type, state)
                   for e164, service_id, number_type, state in rows)
    return NumbersFound(query, total, services, listed)
