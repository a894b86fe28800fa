"""`usage`: what a tenant's services used in one month (UTC), from the number history.

Per service, type and service info: numbers live at some time in the month, their CAC (summed per
live stretch: a number released and uploaded again in the month brings its CAC for each), and
number-days (the time each stretch was live within the month, in days: the quantity a metering
service bills on); per service, the peak of numbers live at once. Everything is aggregated in the
database in one pass over the month's stretches; the peak reads only the month's changes, so a
million numbers take no million Python objects.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import Float, and_, case, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from provisioning.directory import Actor, find_service
from provisioning.errors import UserError
from provisioning.files.exports import csv_bytes
from store.db import Database
from store.models import NUMBER_TYPES, Customer, NumberHistory, Service

DAY = 86400.0
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class epoch(FunctionElement):
    """Seconds since 1970 of a UTC timestamp column, on both databases."""

    type = Float()
    inherit_cache = True


@compiles(epoch, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@dataclass(frozen=True)
class Month:
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def parse_month(raw: str | None, now: datetime) -> Month:
    """`YYYY-MM` (UTC); the current month when not given."""
    if raw is None or not raw.strip():
        year, month = now.year, now.month
    else:
        match = _MONTH.match(raw.strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            shown = raw.strip()[:20].replace("`", "'")
            raise UserError(f"month=`{shown}` is not a month: write it as YYYY-MM with MM from 01 to 12, "
                            f"e.g. month={now:%Y-%m}.")
        year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return Month(start, end)


@dataclass(frozen=True)
class UsageRow:
    """One service, number type and service info."""

    number_type: str
    service_info: str
    numbers: int
    cac: int
    number_days: float


@dataclass
class ServiceUsage:
    service_id: int
    service: str
    customer: str
    peak: int = 0
    rows: list[UsageRow] = field(default_factory=list)

    @property
    def numbers(self) -> int:
        return sum(r.numbers for r in self.rows)

    @property
    def cac(self) -> int:
        return sum(r.cac for r in self.rows)

    @property
    def number_days(self) -> float:
        return sum(r.number_days for r in self.rows)

    def by(self, key: str) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for row in self.rows:
            totals[getattr(row, key)] += row.numbers
        return dict(totals)


@dataclass(frozen=True)
class UsageReport:
    month: Month
    until: datetime  # the month's end, or now for the current month
    services: list[ServiceUsage]


def _upper(month: Month, now: datetime) -> datetime:
    """Where the month's metering stops: its end, or now while it is running."""
    return min(month.end, now)


def _overlap(start: datetime, upper: datetime):
    """Seconds of a stretch within [start, upper) (the stretch overlaps it: see `_in_month`). Most
    stretches cover the whole period: they are answered without any date arithmetic."""
    h = NumberHistory
    whole = literal((upper - start).total_seconds())
    ends_inside = and_(h.released_at.is_not(None), h.released_at < upper)
    lo = case((h.live_since > start, epoch(h.live_since)), else_=literal(start.timestamp()))
    hi = case((ends_inside, epoch(h.released_at)), else_=literal(upper.timestamp()))
    return case((and_(h.live_since <= start, ~ends_inside), whole), else_=hi - lo)


def _in_month(start: datetime, upper: datetime):
    h = NumberHistory
    return and_(h.live_since < upper, or_(h.released_at.is_(None), h.released_at > start))


def usage(session: Session, tenant_id: int, month: Month, now: datetime, service_id: int | None = None) -> UsageReport:
    """The month's usage of the tenant's services (or of one), as `UsageReport`."""
    h = NumberHistory
    upper = _upper(month, now)
    if upper <= month.start:  # a month still to come
        return UsageReport(month, month.start, [])
    where = [h.tenant_id == tenant_id, _in_month(month.start, upper)]
    if service_id is not None:
        where.append(h.service_id == service_id)
    at_start = func.sum(case((h.live_since <= month.start, 1), else_=0))
    rows = session.execute(
        select(h.service_id, h.number_type, h.service_info, func.count(),
               func.coalesce(func.sum(h.cac), 0), func.sum(_overlap(month.start, upper)), at_start)
        .where(*where).group_by(h.service_id, h.number_type, h.service_info)
    ).all()
    found: dict[int, ServiceUsage] = {}
    live_at_start: dict[int, int] = defaultdict(int)
    again = _uploaded_again(session, where, month.start, upper)
    for sid, number_type, info, stretches, cac, seconds, starting in rows:
        numbers = int(stretches) - again.get((sid, number_type, info), 0)
        found.setdefault(sid, ServiceUsage(sid, "", "")).rows.append(
            UsageRow(number_type, info, numbers, int(cac), round(float(seconds or 0) / DAY, 4)))
        live_at_start[sid] += int(starting or 0)
    if found:
        names = session.execute(select(Service.id, Service.name, Customer.name)
                                .join(Customer, Customer.id == Service.customer_id)
                                .where(Service.id.in_(found))).all()
        for sid, name, customer in names:
            found[sid].service, found[sid].customer = name, customer
        for sid, peak in _peaks(session, where, month.start, upper, live_at_start).items():
            found[sid].peak = peak
    ordered = sorted(found.values(), key=lambda s: s.service.lower())
    for item in ordered:
        item.rows.sort(key=lambda r: (NUMBER_TYPES.index(r.number_type) if r.number_type in NUMBER_TYPES else 9,
                                      r.service_info))
    return UsageReport(month, upper, ordered)


def _uploaded_again(session: Session, where: list, start: datetime, upper: datetime) -> dict[tuple, int]:
    """Stretches that are not a number's last in the month (released, then the number went live again
    in the same service, type and service info), per group: the number is counted once. Only the
    month's releases are read."""
    h, later = NumberHistory, aliased(NumberHistory)
    rows = session.execute(
        select(h.service_id, h.number_type, h.service_info, func.count(h.id.distinct()))
        .join(later, and_(later.e164 == h.e164, later.id != h.id, later.live_since >= h.released_at,
                          later.live_since < upper, later.service_id == h.service_id,
                          later.number_type == h.number_type, later.service_info == h.service_info))
        .where(*where, h.released_at.is_not(None), h.released_at < upper)
        .group_by(h.service_id, h.number_type, h.service_info)).all()
    return {(sid, kind, info): int(n) for sid, kind, info, n in rows}


def _peaks(session: Session, where: list, start: datetime, upper: datetime,
           live_at_start: dict[int, int]) -> dict[int, int]:
    """Most numbers live at once per service: those live at the start, then the month's changes in
    time order (a number going live +1, released -1). Only the month's changes are read."""
    h = NumberHistory
    changes = union_all(
        select(h.service_id, h.live_since.label("at"), literal(1).label("d")).where(*where, h.live_since > start),
        select(h.service_id, h.released_at.label("at"), literal(-1).label("d")).where(
            *where, h.released_at.is_not(None), h.released_at < upper),
    ).subquery()
    level = dict(live_at_start)
    peak = dict(live_at_start)
    ordered = select(changes.c.service_id, changes.c.d).order_by(changes.c.at, changes.c.d)
    for sid, delta in session.execute(ordered.execution_options(yield_per=20_000)):
        level[sid] = level.get(sid, 0) + delta
        if level[sid] > peak.get(sid, 0):
            peak[sid] = level[sid]
    return peak


def number_rows(session: Session, tenant_id: int, service_id: int, month: Month,
                now: datetime) -> Iterator[tuple]:
    """Every stretch of one service in the month: number, type, CAC, service info, live since,
    released at, number-days; streamed."""
    h = NumberHistory
    upper = _upper(month, now)
    if upper <= month.start:
        return
    result = session.execute(
        select(h.e164, h.number_type, h.cac, h.service_info, h.live_since, h.released_at,
               _overlap(month.start, upper))
        .where(h.tenant_id == tenant_id, h.service_id == service_id, _in_month(month.start, upper))
        .order_by(h.e164, h.live_since).execution_options(yield_per=5000))
    for e164, number_type, cac, info, since, released, seconds in result:
        yield e164, number_type, cac, info, since, released, round(float(seconds) / DAY, 4)


def tenant_usage(db: Database, actor: Actor, service_name: str | None, raw_month: str | None,
                 now: datetime) -> UsageReport:
    """The operator's tenant (or one of its services) in the month; a bad month is refused first."""
    month = parse_month(raw_month, now)
    with db.sessions() as session:
        service_id = find_service(session, actor, service_name).id if service_name else None
        return usage(session, actor.tenant_id, month, now, service_id)


def usage_csv(db: Database, actor: Actor, report: UsageReport, now: datetime, *, per_number: bool) -> bytes:
    """One row per service and service info, or (one service) one row per number's stretch."""
    label = report.month.label
    if per_number:
        service = report.services[0]
        with db.sessions() as session:
            rows = list(number_rows(session, actor.tenant_id, service.service_id, report.month, now))
        return csv_bytes(
            ("Month", "Service", "Number", "Number Type", "CAC", "Service Info", "Live Since", "Released At",
             "Number-days"),
            ((label, service.service, e164, kind, cac, info, _stamp(since), _stamp(released), days)
             for e164, kind, cac, info, since, released, days in rows))
    by_info: list[tuple] = []
    for service in report.services:
        infos: dict[str, list[UsageRow]] = defaultdict(list)
        for row in service.rows:
            infos[row.service_info].append(row)
        for info, rows in sorted(infos.items()):
            types = {t: sum(r.numbers for r in rows if r.number_type == t) for t in NUMBER_TYPES}
            by_info.append((label, service.customer, service.service, info, sum(r.numbers for r in rows),
                            *types.values(), sum(r.cac for r in rows), round(sum(r.number_days for r in rows), 2),
                            service.peak))
    return csv_bytes(("Month", "Customer", "Service", "Service Info", "Numbers", *NUMBER_TYPES, "CAC",
                      "Number-days", "Service Peak"), by_info)


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""
