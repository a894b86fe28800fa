"""Sync benchmark: 100,000 numbers of an integrated service through the fake Webex (SPEC §8).

A first worker pushes half of the batches and is "killed" (its lease is left behind); a
new engine instance, with a new database connection and HTTP session, takes over once the
lease expires. A 429 with Retry-After is injected in the second half. Counts the add
requests that reached Webex (target ⌈N / batch⌉ = 200 at batch 500) and checks that no
number was posted twice and that the Ready notice is queued once.

    python -m bench.bench_sync [--numbers 100000] [--batch 500] [--no-postgres]
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from bot.telephony import WebexNumbersApi
from provisioning.settings import Settings
from provisioning.sync.engine import SyncEngine
from store.db import connect
from store.models import Number, OutboxMessage, utcnow
from tests.support.databases import postgres_database
from tests.support.factories import e164s, seed
from tests.support.fakewebex import FakeWebex
from tests.support.live import numbers_adapter

ORG, LOC = "ORG-BENCH", "LOC-BENCH"
ADD_PATH = r"/v1/telephony/config/locations/[^/]+/numbers$"
LEASE = timedelta(seconds=2)


class Killed(BaseException):
    """The first worker dies here (not an Exception, so the engine cannot clean up)."""


class Scripted:
    """The real adapter, plus a death before add call `die_at` and a 429 before `throttle_at`.

    Also measures the time spent waiting for Webex (the fake), to tell it from our own.
    """

    def __init__(self, fake: FakeWebex, inner: WebexNumbersApi, die_at: int | None, throttle_at: int | None):
        self.fake, self.inner, self.die_at, self.throttle_at, self.calls = fake, inner, die_at, throttle_at, 0
        self.add_seconds = self.list_seconds = 0.0

    def add_numbers(self, *args):
        self.calls += 1
        if self.calls == self.die_at:
            raise Killed()
        if self.calls == self.throttle_at:
            self.fake.fail_next("POST", ADD_PATH, 429, headers={"Retry-After": "1"})
        start = time.perf_counter()
        try:
            return self.inner.add_numbers(*args)
        finally:
            self.add_seconds += time.perf_counter() - start

    def pstn_connection_type(self, *args):
        return self.inner.pstn_connection_type(*args)

    def list_numbers(self, *args):
        pages = self.inner.list_numbers(*args)
        while True:
            start = time.perf_counter()
            try:
                item = next(pages)
            except StopIteration:
                return
            finally:
                self.list_seconds += time.perf_counter() - start
            yield item


def adapter(fake: FakeWebex) -> WebexNumbersApi:
    return numbers_adapter(fake, page_size=2000)


def drive(db, api, settings: Settings, worker: str) -> tuple[float, float]:
    """Run passes until no task is open; returns (seconds working, seconds waiting)."""
    engine = SyncEngine(db, api, settings, worker_id=worker, lease=LEASE)
    working = waiting = 0.0
    while True:
        start = time.perf_counter()
        report = engine.run_due()
        working += time.perf_counter() - start
        if report.next_due_at is None:
            return working, waiting
        pause = max(0.0, (report.next_due_at - utcnow()).total_seconds()) + 0.01
        time.sleep(pause)
        waiting += pause


def run_database(label: str, url: str, numbers: int, batch: int) -> list[dict]:
    settings = Settings(sync_batch_size=batch, sync_poll_seconds=60)
    db = connect(url, auto_upgrade=True)
    seed(db, e164s(numbers), org_id=ORG, location_id=LOC)
    batches = math.ceil(numbers / batch)
    with FakeWebex() as fake:
        started = time.perf_counter()
        first = Scripted(fake, adapter(fake), die_at=batches // 2 + 1, throttle_at=None)
        try:
            drive(db, first, settings, "bench-first")
        except Killed:
            pass
        restarted = connect(url, auto_upgrade=False)
        second = Scripted(fake, adapter(fake), die_at=None, throttle_at=batches // 4)
        working, waiting = drive(restarted, second, settings, "bench-restarted")
        total = time.perf_counter() - started
        restarted.dispose()
        adds = fake.add_requests
        posts = Counter(n for request in adds for n in request.phone_numbers)
        throttled = sum(1 for r in fake.requests if r.method == "POST") - len(adds)
        gets = sum(1 for r in fake.requests if r.method == "GET")
    with db.sessions() as session:
        live = session.scalar(select(func.count()).where(Number.sync_state == "live"))
        notices = session.scalar(select(func.count()).select_from(OutboxMessage))
    db.dispose()
    twice = sum(1 for count in posts.values() if count > 1)
    return [
        {"name": f"sync {numbers:,}: add requests ({label})", "value": len(adds), "unit": "requests",
         "target": f"= {batches} (ceil N/{batch})", "baseline": None, "ok": len(adds) == batches},
        {"name": f"sync {numbers:,}: numbers posted twice ({label})", "value": twice, "unit": "numbers",
         "target": "= 0", "baseline": None, "ok": twice == 0},
        {"name": f"sync {numbers:,}: live, Ready notices ({label})", "value": live, "unit": "live",
         "target": f"= {numbers:,}, 1 notice", "baseline": None, "ok": live == numbers and notices == 1,
         "notices": notices},
        {"name": f"sync {numbers:,}: 429s answered ({label})", "value": throttled, "unit": "requests",
         "target": "retried", "baseline": None, "ok": throttled == 1},
        {"name": f"sync {numbers:,}: total time ({label})", "value": round(total, 2), "unit": "s",
         "target": "(report)", "baseline": None, "ok": True,
         "waiting_s": round(waiting, 2), "list_requests": gets},
        {"name": f"sync {numbers:,}: restarted worker, in Webex calls ({label})",
         "value": round(second.add_seconds + second.list_seconds, 2), "unit": "s", "target": "(report)",
         "baseline": None, "ok": True, "add_s": round(second.add_seconds, 2), "list_s": round(second.list_seconds, 2)},
        {"name": f"sync {numbers:,}: restarted worker, own work ({label})",
         "value": round(working - second.add_seconds - second.list_seconds, 2), "unit": "s",
         "target": "(report)", "baseline": None, "ok": True},
    ]



def run(numbers: int = 100_000, batch: int = 500, postgres: bool = True) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run_database("SQLite", f"sqlite:///{folder}/sync.db", numbers, batch)
    if postgres:
        with postgres_database("leadsbot_bench") as url:
            rows += run_database("PostgreSQL", url, numbers, batch)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for row in run(args.numbers, args.batch, not args.no_postgres):
        extra = "".join(f"  {k}={row[k]}" for k in ("notices", "waiting_s", "list_requests", "add_s", "list_s")
                        if k in row)
        verdict = "ok" if row["ok"] else "FAILED"
        print(f"{row['name']:<64} {row['value']:>10} {row['unit']:<9} target {row['target']:<24} {verdict}{extra}")


if __name__ == "__main__":
    main()
