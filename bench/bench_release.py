"""Release benchmark: N pushed, live numbers of an integrated service released through the fake
Webex (SPEC §8: ⌈N / 5⌉ remove requests).

A first worker sends half of the removes and is "killed" (its lease is left behind); a new engine
instance takes over once the lease expired, and a 429 with Retry-After is injected on the way.
Counts the DELETEs that reached Webex, checks that no number was sent twice and that the
"released" notice is queued once. Baseline: one DELETE per number (what a loop over the numbers
would send).

    python -m bench.bench_release [--numbers 10000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select, update

from bench.databases import on_each_database
from bot.telephony import WebexNumbersApi
from provisioning.settings import Settings
from provisioning.sync.engine import SyncEngine
from provisioning.sync.port import MAX_REMOVE
from provisioning.sync.states import NOT_LIVE, mark
from store.db import connect
from store.models import Number, NumberHistory, OutboxMessage, SyncTask, utcnow
from tests.support.factories import seed
from tests.support.fakewebex import FakeWebex
from tests.support.live import numbers_adapter
from tests.support.releases import milan, release

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
DELETE_PATH = r"/v1/telephony/config/locations/[^/]+/numbers$"
LEASE = timedelta(seconds=2)


class Killed(BaseException):
    """The first worker dies here (not an Exception, so the engine cannot clean up)."""


class Scripted:
    """The real adapter, plus a death before remove call `die_at` and a 429 before `throttle_at`."""

    def __init__(self, fake: FakeWebex, inner: WebexNumbersApi, die_at: int | None, throttle_at: int | None):
        self.fake, self.inner, self.die_at, self.throttle_at, self.calls = fake, inner, die_at, throttle_at, 0

    def remove_numbers(self, *args):
        self.calls += 1
        if self.calls == self.die_at:
            raise Killed()
        if self.calls == self.throttle_at:
            self.fake.fail_next("DELETE", DELETE_PATH, 429, headers={"Retry-After": "1"})
        return self.inner.remove_numbers(*args)

    def list_numbers(self, *args):
        return self.inner.list_numbers(*args)

    def add_numbers(self, *args):
        return self.inner.add_numbers(*args)

    def pstn_connection_type(self, *args):
        return self.inner.pstn_connection_type(*args)


def live_numbers(db, numbers: list[str]) -> int:
    """A service whose numbers are live (as the poll leaves them), with their history."""
    service_id, _upload = seed(db, numbers, org_id=ORG, location_id=LOC)
    now = utcnow() - timedelta(days=3)
    with db.sessions.begin() as session:
        mark(session, numbers, "live", from_states=NOT_LIVE, now=now)  # as the poll does: stretches opened
        session.execute(update(SyncTask).values(state="done"))
    return service_id


def drive(db, api, settings: Settings, worker: str) -> None:
    engine = SyncEngine(db, api, settings, worker_id=worker, lease=LEASE)
    while True:
        report = engine.run_due()
        if report.next_due_at is None:
            return
        time.sleep(max(0.0, (report.next_due_at - utcnow()).total_seconds()) + 0.01)


def run_database(label: str, url: str, count: int) -> list[dict]:
    settings = Settings(sync_poll_seconds=1)
    db = connect(url, auto_upgrade=True)
    numbers = milan(count)
    service_id = live_numbers(db, numbers)
    requests = math.ceil(count / MAX_REMOVE)
    with FakeWebex() as fake:
        fake.add_live_numbers(ORG, LOC, numbers)
        started = time.perf_counter()
        release(db, service_id, numbers)
        submitted = time.perf_counter() - started
        first = Scripted(fake, numbers_adapter(fake, page_size=2000), die_at=requests // 2 + 1, throttle_at=None)
        try:
            drive(db, first, settings, "bench-first")
        except Killed:
            pass
        restarted = connect(url, auto_upgrade=False)
        second = Scripted(fake, numbers_adapter(fake, page_size=2000), die_at=None, throttle_at=requests // 4)
        drive(restarted, second, settings, "bench-restarted")
        total = time.perf_counter() - started
        restarted.dispose()
        removes = fake.remove_requests
        sent = Counter(n for _, _, batch in removes for n in batch)
        throttled = sum(1 for r in fake.requests if r.method == "DELETE") - len(removes)
        left_in_webex = len(fake.numbers_of(ORG, LOC))
    with db.sessions() as session:
        left = session.scalar(select(func.count()).select_from(Number))
        closed = session.scalar(select(func.count()).where(NumberHistory.released_at.is_not(None)))
        notices = session.scalar(select(func.count()).where(OutboxMessage.dedupe_key.like("released:%")))
    db.dispose()
    twice = sum(1 for n in sent.values() if n > 1)
    return [
        {"name": f"release {count:,}: remove requests ({label})", "value": len(removes), "unit": "requests",
         "target": f"= {requests:,} (ceil N/{MAX_REMOVE})", "baseline": count, "baseline_name": "one per number",
         "ratio": count / max(1, len(removes)), "ok": len(removes) == requests},
        {"name": f"release {count:,}: numbers sent twice, after a kill and a 429 ({label})", "value": twice,
         "unit": "numbers", "target": "= 0", "baseline": None, "ok": twice == 0 and throttled == 1},
        {"name": f"release {count:,}: released, history closed, notices ({label})", "value": closed,
         "unit": "released", "target": f"= {count:,}, 1 notice", "baseline": None,
         "ok": closed == count and left == 0 and left_in_webex == 0 and notices == 1},
        {"name": f"release {count:,}: preview + submit ({label})", "value": round(submitted, 2), "unit": "s",
         "target": "(report)", "baseline": None, "ok": True},
        {"name": f"release {count:,}: total incl. lease expiry and Retry-After ({label})", "value": round(total, 2),
         "unit": "s", "target": "(report)", "baseline": None, "ok": True},
    ]


def run(numbers: int = 10_000, postgres: bool = True) -> list[dict]:
    return on_each_database(run_database, "release", numbers, postgres)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    for row in run(args.numbers, not args.no_postgres):
        verdict = "ok" if row["ok"] else "FAILED"
        print(f"{row['name']:<72} {row['value']:>10} {row['unit']:<9} target {row['target']:<24} {verdict}")


if __name__ == "__main__":
    main()
