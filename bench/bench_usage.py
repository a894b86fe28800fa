"""Usage benchmark: `usage` for a month with 1,000,000 numbers in the history (SPEC §8: ≤ 2 s).

The tenant has 20 services; 90% of the numbers have been live since before the month, 5% went
live during it, 5% were released during it (a steady state plus a month's changes). Times the
whole month's figures (`tenant_usage`: numbers by type and service info, CAC, peak, number-days)
and one service's per-number CSV. Baseline: the same number-days summed in Python over every
stretch read from the database (what a straightforward implementation would do).

    python -m bench.bench_usage [--numbers 1000000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from bench.databases import on_each_database
from provisioning.directory import Actor
from provisioning.metering.usage import parse_month, tenant_usage, usage_csv
from store.bulk import bulk_insert
from store.db import connect
from store.models import NumberHistory
from tests.support.factories import make_service, make_tenant

SERVICES = 20
NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)
MONTH = "2026-11"
TYPES = ("user", "service", "contact-center")
INFOS = ("", "Sales", "Support", "Fax IVR")
COLUMNS = ("e164", "tenant_id", "customer_id", "service_id", "number_type", "cac", "service_info", "live_since",
           "released_at")


def fill(db, count: int) -> tuple[int, int]:
    """The history rows; returns (tenant id, the first service's id)."""
    with db.sessions.begin() as session:
        tenant = make_tenant(session, "Bench SP")
        services = [make_service(session, f"svc-{i:02d}", tenant="Bench SP", customer=f"Customer {i % 7}",
                                 location_id=f"LOC-{i}") for i in range(SERVICES)]
        ids = [(s.id, s.customer_id) for s in services]
        tenant_id = tenant.id
    before, start = datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)

    def rows():
        for i in range(count):
            service_id, customer_id = ids[i % SERVICES]
            kind = TYPES[i % 3]
            since, released = before + timedelta(minutes=i % 100_000), None
            if i % 20 == 0:
                since = start + timedelta(minutes=(i * 7) % (29 * 24 * 60))
            elif i % 20 == 1:
                released = start + timedelta(minutes=(i * 11) % (29 * 24 * 60))
            yield (f"+3902{10_000_000 + i:08d}", tenant_id, customer_id, service_id, kind,
                   2 if kind == "user" else 2 + i % 9, INFOS[i % 4], since, released)

    with db.sessions.begin() as session:
        bulk_insert(session, NumberHistory.__table__, COLUMNS, rows())
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return tenant_id, ids[0][0]


def naive_number_days(db, tenant_id: int) -> float:
    month = parse_month(MONTH, NOW)
    total = 0.0
    with db.sessions() as session:
        result = session.execute(select(NumberHistory.live_since, NumberHistory.released_at)
                                 .where(NumberHistory.tenant_id == tenant_id).execution_options(yield_per=20_000))
        for since, released in result:
            lo, hi = max(since, month.start), min(released or month.end, month.end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 86400
    return total


def run_database(label: str, url: str, count: int) -> list[dict]:
    db = connect(url, auto_upgrade=True)
    tenant_id, first_service = fill(db, count)
    actor = Actor(0, "bench@example", tenant_id, "Bench SP", "operator")
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        report = tenant_usage(db, actor, None, MONTH, NOW)
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    one = tenant_usage(db, actor, "svc-00", MONTH, NOW)
    per_number = usage_csv(db, actor, one, NOW, per_number=True)
    export = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_number_days(db, tenant_id)
    naive_s = time.perf_counter() - start
    db.dispose()
    ours = sum(s.number_days for s in report.services)
    agree = abs(ours - naive) < 1e-3 * max(1.0, naive)
    best = min(timings)
    return [
        {"name": f"usage {MONTH}, {count:,} numbers, {SERVICES} services ({label})", "value": best * 1000,
         "unit": "ms", "target": "≤ 2,000 ms", "baseline": naive_s * 1000, "baseline_name": "Python loop",
         "ok": best <= 2.0 and agree, "runs_ms": [round(t * 1000) for t in timings]},
        {"name": f"usage svc-00 per-number CSV, {count // SERVICES:,} numbers ({label})", "value": export * 1000,
         "unit": "ms", "target": "(report)", "baseline": None, "ok": True, "bytes": len(per_number)},
    ]


def run(numbers: int = 1_000_000, postgres: bool = True) -> list[dict]:
    return on_each_database(run_database, "usage", numbers, postgres)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for row in run(args.numbers, not args.no_postgres):
        verdict = "ok" if row["ok"] else "FAILED"
        extra = "".join(f"  {k}={row[k]}" for k in ("runs_ms", "bytes") if k in row)
        print(f"{row['name']:<64} {row['value']:>10.0f} {row['unit']:<4} target {row['target']:<12} "
              f"baseline {row['baseline'] or 0:.0f} {verdict}{extra}")


if __name__ == "__main__":
    main()
