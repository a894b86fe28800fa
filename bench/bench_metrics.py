"""What GET /metrics costs: one scrape's database gauges with many numbers, services and waiting events,
and what counting adds to each webhook delivery (SPEC §9; no SPEC §8 target, so the targets here are
ours: a scrape well under Prometheus's default 10 s timeout, counting well under 1% of the 50 ms ack).

    python -m bench.bench_metrics [--numbers 1000000] [--services 200] [--events 10000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta

from prometheus_client import generate_latest

from bot import metrics
from bot.envelopes import InboxEnvelope
from bot.events import record
from store.db import connect
from store.models import WebhookEvent, utcnow
from tests.support.databases import postgres_database
from tests.support.factories import e164s, seed

SCRAPES = 9
SCRAPE_TARGET_SECONDS = 1.0
COUNT_TARGET_SECONDS = 0.0005  # 1% of a 50 ms acknowledgement


def fill(db, numbers: int, services: int, events: int) -> None:
    per_service = numbers // services
    for index in range(services):
        seed(db, e164s(per_service, start=200_000_000 + index * per_service), name=f"svc-{index}",
             org_id=f"ORG-{index}", location_id=f"LOC-{index}")
    for index in range(events):
        record(db, InboxEnvelope(f"EVENT-{index}", "messages", "created", None, None, {}))
    with db.engine.begin() as conn:
        conn.execute(WebhookEvent.__table__.update().values(received_at=utcnow() - timedelta(minutes=5)))


def scrape_seconds(db) -> float:
    """Median time of one exposition (this process's counters plus the database's gauges)."""
    registry = metrics.registry(db)
    times = []
    for _ in range(SCRAPES):
        start = time.perf_counter()
        text = generate_latest(registry)
        times.append(time.perf_counter() - start)
    assert b"leadsbot_inbox_backlog" in text
    return statistics.median(times)


def count_seconds(calls: int = 20_000) -> float:
    """What `_delivery_answered`'s counting costs per delivery: one counter and one histogram."""
    counter = metrics.WEBHOOK_DELIVERIES.labels(outcome="accepted")
    start = time.perf_counter()
    for _ in range(calls):
        counter.inc()
        metrics.ACK_SECONDS.observe(0.004)
    return (time.perf_counter() - start) / calls


def run_database(label: str, url: str, numbers: int, services: int, events: int) -> list[dict]:
    db = connect(url)
    try:
        fill(db, numbers, services, events)
        seconds = scrape_seconds(db)
    finally:
        db.dispose()
    return [{"name": f"GET /metrics, {numbers:,} numbers / {services} services / {events:,} waiting events "
                     f"({label})", "value": seconds * 1000, "unit": "ms", "target": f"< {SCRAPE_TARGET_SECONDS:.0f} s",
             "ok": seconds < SCRAPE_TARGET_SECONDS}]


def run(numbers: int = 1_000_000, services: int = 200, events: int = 10_000, postgres: bool = True) -> list[dict]:
    mode = "multiprocess" if metrics.multiprocess_dir() else "one process"
    per_delivery = count_seconds()
    rows = [{"name": f"counting one webhook delivery ({mode})", "value": per_delivery * 1e6, "unit": "µs",
             "target": f"< {COUNT_TARGET_SECONDS * 1e6:.0f} µs", "ok": per_delivery < COUNT_TARGET_SECONDS}]
    with tempfile.TemporaryDirectory() as folder:
        rows += run_database("SQLite", f"sqlite:///{os.path.join(folder, 'bench.db')}", numbers, services, events)
    if postgres:
        with postgres_database("leadsbot_bench") as url:
            rows += run_database("PostgreSQL", url, numbers, services, events)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for row in run(args.numbers, args.services, args.events, postgres=not args.no_postgres):
        print(f"{row['name']}: {row['value']:.3g} {row['unit']} (target {row['target']}, "
              f"{'ok' if row['ok'] else 'MISSED'})")


if __name__ == "__main__":
    main()
