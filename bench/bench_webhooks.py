"""Webhook benchmark (SPEC §8): acknowledgement latency at 200 requests/s under gunicorn, then a
burst with redeliveries; every accepted event must be processed afterwards, and none twice.

The bot runs as the Procfile says: `web` is gunicorn (`-c python:bot.gunicorn_conf`, two workers,
acknowledging only) bound to 127.0.0.1, and `worker` (`leadsbot worker`) processes the events, on a
fresh PostgreSQL database (created and dropped here) and on a SQLite file,
with the fake Webex (tests/fakewebex) serving the messages the events point at: each event is
`help` or `leads` from an operator of the demo inventory, in a room of its own, so every reply
can be matched to its event. Debian's wrk offers the load: a Lua script sends pre-signed
deliveries of distinct messages (each wrk thread its own slice), paced with `delay()` to the
target rate, and prints the latency percentiles. The burst sends deliveries over 32 connections as
fast as the server answers, a tenth of them redeliveries of the same `data.id`, timing each
acknowledgement; the sender is a process of its own (bench/burst_sender.py, asyncio), so its
figures are the server's rather than those of Python threads queueing for the interpreter
the fake Webex also runs in.

`leadsbot serve` (gunicorn child acknowledging, processing niced in the parent) gets the same
steady rate and a burst of `--serve-burst` deliveries. The ordering cost is the time per event
of claiming and finishing with the per-space ordering check, next to the plain claim of the
oldest due row (what the inbox did before), on a backlog spread over many spaces.

    python -m bench.bench_webhooks [--rate 200] [--seconds 10] [--burst 2000] [--serve-burst 300]
                                   [--no-postgres] [--no-sqlite]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.envelopes import from_webhook
from bot.events import EVENTS, claim, finish, record
from bot.webhooks_admin import register_webhooks
from provisioning.inventory import DEMO_INVENTORY
from store import leases
from store.db import Database, connect
from store.models import WebhookEvent, utcnow
from tests.support.databases import postgres_database
from tests.support.fakewebex import FakeWebex, delivery
from tests.support.live import OPERATOR, fast_client, wait_until
from tests.support.processes import ROOT, SECRET, environment, free_port, gunicorn_command, healthy

COMMANDS = ("help", "leads")
WRK_THREADS = 2  # one per core
WRK_CONNECTIONS = 20  # the pacing is per thread; spare connections keep a slow answer from lowering the rate
BURST_SENDERS = 32
TARGET_P99_MS = 50

# Loaded by every wrk thread. Arguments: the data file (a Lua table of {body, signature}), the
# requests per second of one thread and the number of threads. Each thread takes its own slice
# of the events and hands out send times one interval apart (a monotonic clock through LuaJIT's
# FFI), so the offered rate does not sag by the response time as a fixed delay would.
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local events = dofile(args[1])
  interval = 1000 / tonumber(args[2])
  local share = math.floor(#events / tonumber(args[3]))
  prepared = {}
  for i = index * share + 1, (index + 1) * share do
    local headers = {["Content-Type"] = "application/json", ["X-Spark-Signature"] = events[i][2]}
    prepared[#prepared + 1] = wrk.format("POST", nil, headers, events[i][1])
  end
  position, slot, accepted, refused = 0, nil, 0, 0
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function delay()
  local now = now_ms()
  slot = math.max((slot or now) + interval, now)
  return math.floor(slot - now + 0.5)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local accepted, refused = 0, 0
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("accepted")
    refused = refused + thread:get("refused")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, ' ..
    '"max_us": %.0f, "accepted": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, accepted, refused,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def ensure_wrk() -> str:
    """Debian's wrk; installed with apt-get when missing (this is a bench, not CI)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing Debian's wrk (apt-get install -y wrk)", file=sys.stderr, flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "timeout": 600}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, **quiet)
    return shutil.which("wrk") or "wrk"


def prepare(url: str) -> Database:
    """Schema and the demo inventory, through the CLI as an operator would."""
    env = {**os.environ, "DATABASE_URL": url}
    for args in (["db", "upgrade"], ["inventory", "load", str(DEMO_INVENTORY)]):
        subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
    return connect(url, auto_upgrade=False)


def _stop_group(process: subprocess.Popen) -> None:
    for how, patience in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        if process.poll() is None:
            os.killpg(process.pid, how)
            try:
                process.wait(patience)
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def procfile(db: Database, fake: FakeWebex, log: Path) -> Iterator[str]:
    """The Procfile's `web` (gunicorn, acknowledging only) and `worker` on 127.0.0.1; both stopped at the end."""
    port = free_port()
    env = {**environment(db, fake), "PORT": str(port)}
    web = gunicorn_command(port, "bot.app:create_app(start_workers=False)")
    worker = [sys.executable, "-m", "bot", "worker"]
    processes = []
    with log.open("ab") as output:
        for command in (web, worker):
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                              start_new_session=True))
    try:
        web_process = processes[0]
        if not wait_until(lambda: healthy(port) or web_process.poll() is not None, timeout=30) or not healthy(port):
            raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}/webhooks/webex"
    finally:
        for process in processes:
            _stop_group(process)


@contextmanager
def serve(db: Database, fake: FakeWebex, log: Path) -> Iterator[str]:
    """`leadsbot serve` on 127.0.0.1 (gunicorn child acknowledging, processing in the niced parent)."""
    port = free_port()
    env = environment(db, fake)
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-scheduler"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        if not wait_until(lambda: healthy(port) or process.poll() is not None, timeout=30) or not healthy(port):
            raise RuntimeError(f"leadsbot serve did not start: {log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}/webhooks/webex"
    finally:
        _stop_group(process)


def user_messages(fake: FakeWebex, count: int, tag: str) -> list[dict]:
    return [fake.user_message(OPERATOR, fake.add_room(f"{tag} {n}", "direct"), COMMANDS[n % 2])
            for n in range(count)]



def write_events(path: Path, fake: FakeWebex, messages: list[dict]) -> None:
    """The signed deliveries as a Lua table of {raw body, X-Spark-Signature}."""
    lines = ["return {"]
    for message in messages:
        body = delivery.encode(fake.message_envelope(message)).decode()
        assert "]==]" not in body
        lines.append(f'{{[==[{body}]==], "{delivery.sign(body.encode(), SECRET)}"}},')
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def run_wrk(url: str, folder: Path, events: Path, rate: int, seconds: int) -> dict:
    script = folder / "webhooks.lua"
    script.write_text(WRK_SCRIPT)
    command = [ensure_wrk(), f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s",
               "-s", str(script), url, "--", str(events), str(rate / WRK_THREADS), str(WRK_THREADS)]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    lines = [line for line in output.splitlines() if line.startswith("BENCH ")]
    if not lines:
        raise RuntimeError(f"wrk printed no result: {output[-2000:]}")
    return json.loads(lines[-1][len("BENCH "):])


def event_states(db: Database, ids: set[str]) -> dict[str, str]:
    with db.sessions() as session:
        rows = session.execute(select(WebhookEvent.id, WebhookEvent.state)).all()
    return {event_id: state for event_id, state in rows if event_id in ids}


def drain(db: Database, ids: set[str], timeout: float) -> float:
    """Wait (bounded) until no event of `ids` is pending or in hand; returns the seconds it took."""
    start = time.perf_counter()
    wait_until(lambda: all(s in ("done", "failed") for s in event_states(db, ids).values()), timeout=timeout)
    return time.perf_counter() - start


def tally(db: Database, fake: FakeWebex, messages: list[dict]) -> dict:
    """Accepted (recorded) events, processed ones, and the replies each got in its own room."""
    by_id = {m["id"]: m for m in messages}
    states = event_states(db, set(by_id))
    replies = Counter(reply["roomId"] for reply in fake.bot_messages())
    answered = [replies[by_id[event_id]["roomId"]] for event_id in states]
    return {
        "accepted": len(states),
        "processed": sum(1 for s in states.values() if s == "done"),
        "failed": sum(1 for s in states.values() if s == "failed"),
        "lost": sum(1 for n in answered if n == 0),
        "twice": sum(1 for n in answered if n > 1),
    }


def row(name: str, value: float, unit: str, target: str, ok: bool = True) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "baseline": None, "ok": ok}


def outcome_rows(prefix: str, counts: dict, drained: float) -> list[dict]:
    accepted = counts["accepted"]
    return [
        row(f"{prefix}: events accepted", accepted, "events", "(report)"),
        row(f"{prefix}: events processed", counts["processed"], "events", f"= accepted ({accepted})",
            counts["processed"] == accepted),
        row(f"{prefix}: accepted, never answered (lost)", counts["lost"], "events", "0", counts["lost"] == 0),
        row(f"{prefix}: processed twice", counts["twice"], "events", "0", counts["twice"] == 0),
        row(f"{prefix}: processing finished after the load", drained, "s", "(report)"),
    ]


WARM_UP = 40


def steady(label: str, db: Database, fake: FakeWebex, url: str, folder: Path, rate: int, seconds: int) -> list[dict]:
    """wrk at `rate` requests/s of distinct events for `seconds`; latency, then processing.

    A few deliveries first warm the gunicorn workers up (imports, database connections), so a
    short run measures the steady state rather than each worker's first request.
    """
    warm_up = user_messages(fake, WARM_UP, "warm-up")
    for message in warm_up:
        fake.deliver(fake.message_envelope(message))
    drain(db, {m["id"] for m in warm_up}, timeout=60)
    messages = user_messages(fake, int(rate * seconds * 1.25) + 10 * WRK_THREADS, "steady")
    events = folder / "events.lua"
    write_events(events, fake, messages)
    load = os.getloadavg()[0]
    result = run_wrk(url, folder, events, rate, seconds)
    drained = drain(db, {m["id"] for m in messages}, timeout=120 + seconds * rate / 20)
    counts = tally(db, fake, messages)
    achieved = result["requests"] / (result["duration_us"] / 1e6)
    p99 = result["p99_us"] / 1000
    prefix = f"webhooks {rate}/s ({label})"
    return [
        row(f"{prefix}: ack latency p99", p99, "ms", f"<= {TARGET_P99_MS} ms", p99 <= TARGET_P99_MS),
        row(f"{prefix}: ack latency p50", result["p50_us"] / 1000, "ms", "(report)"),
        row(f"{prefix}: ack latency p90", result["p90_us"] / 1000, "ms", "(report)"),
        row(f"{prefix}: ack latency max", result["max_us"] / 1000, "ms", "(report)"),
        row(f"{prefix}: machine load average before the run", load, "", "(report: 2 cores)"),
        row(f"{prefix}: requests", result["requests"], "req", "(report)"),
        row(f"{prefix}: rate achieved", achieved, "req/s", f"~{rate} req/s", achieved >= 0.9 * rate),
        row(f"{prefix}: non-2xx answers", result["non_2xx"], "req", "0", result["non_2xx"] == 0),
        row(f"{prefix}: socket errors", result["socket_errors"], "req", "0", result["socket_errors"] == 0),
        *outcome_rows(prefix, counts, drained),
    ]


def percentile(values: list[float], fraction: float) -> float:
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, int(fraction * len(ranked)))]


def send_burst(url: str, deliveries: list[dict]) -> tuple[float, list[tuple[int, float, bool | None]]]:
    """Seconds the burst took, and (status, ms, duplicate) of each delivery, sent by
    bench/burst_sender.py over BURST_SENDERS connections."""
    signed = []
    for envelope in deliveries:
        body = delivery.encode(envelope)
        signed.append((body.decode(), delivery.sign(body, SECRET)))
    spec = json.dumps({"url": url, "connections": BURST_SENDERS, "deliveries": signed})
    done = subprocess.run([sys.executable, "-m", "bench.burst_sender"], input=spec, capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=300)
    result = json.loads(done.stdout)
    return result["seconds"], [tuple(answer) for answer in result["answers"]]


def burst(label: str, db: Database, fake: FakeWebex, url: str, count: int, targeted: bool = True) -> list[dict]:
    """`count` deliveries at once, a tenth of them redeliveries of an event also in the burst.

    SPEC §8 sets the burst target for `leadsbot serve`; for the Procfile's set-up (`targeted`
    False) the figures are reported only: there `web` and `worker` may not even share a machine."""
    redelivered = count // 10
    messages = user_messages(fake, count - redelivered, "burst")
    envelopes = [fake.message_envelope(m) for m in messages]
    deliveries = envelopes + random.Random(6).sample(envelopes, redelivered)
    random.Random(2000).shuffle(deliveries)
    sending, answers = send_burst(url, deliveries)
    drained = drain(db, {m["id"] for m in messages}, timeout=120 + count / 10)
    counts = tally(db, fake, messages)
    statuses = Counter(status for status, _, _ in answers)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    refused = sum(n for status, n in statuses.items() if status != 202)
    first_acks = sum(1 for _, _, duplicate in answers if duplicate is False)
    latencies = [elapsed for _, elapsed, _ in answers]
    p99 = percentile(latencies, 0.99)
    prefix = f"burst {count:,}, {redelivered} redelivered ({label})"
    return [
        row(f"{prefix}: ack latency p99", p99, "ms", f"<= {TARGET_P99_MS} ms" if targeted else "(report)",
            p99 <= TARGET_P99_MS or not targeted),
        row(f"{prefix}: ack latency p50", percentile(latencies, 0.5), "ms", "(report)"),
        row(f"{prefix}: ack latency max", max(latencies), "ms", "(report)"),
        row(f"{prefix}: deliveries/s", count / sending, "req/s", "(report)"),
        row(f"{prefix}: 5xx answers", server_errors, "req", "0", server_errors == 0),
        row(f"{prefix}: answers other than 202", refused, "req", "0", refused == 0),
        row(f"{prefix}: acknowledged as new", first_acks, "events", f"= distinct ({len(messages)})",
            first_acks == len(messages)),
        *outcome_rows(prefix, counts, drained),
    ]


def run_database(label: str, url: str, rate: int, seconds: int, burst_size: int, folder: Path,
                 server=procfile) -> list[dict]:
    with ExitStack() as stack:
        fake = stack.enter_context(FakeWebex())
        db = prepare(url)
        stack.callback(db.dispose)
        webhook_url = stack.enter_context(server(db, fake, folder / f"{server.__name__}-{label}.log"))
        register_webhooks(fast_client(fake), webhook_url, SECRET)
        rows = steady(label, db, fake, webhook_url, folder, rate, seconds) if seconds else []
        if burst_size:
            rows += burst(label, db, fake, webhook_url, burst_size, targeted=server is serve)
        return rows


ORDERING_EVENTS = 2000
ORDERING_SPACES = 50


def ordering_cost(label: str, url: str, events: int = ORDERING_EVENTS) -> list[dict]:
    """ms per event to claim and finish a backlog over many spaces: ordered claim vs the plain one."""
    db = prepare(url)
    lease = timedelta(seconds=60)

    def backlog(tag: str) -> None:
        for n in range(events):
            body = {"resource": "messages", "event": "created",
                    "data": {"id": f"{tag}-{n}", "roomId": f"ROOM-{n % ORDERING_SPACES}", "personId": f"P-{n % 7}"}}
            record(db, from_webhook(body))

    def ordered() -> bool:
        event = claim(db, "bench", lease)
        if event is not None:
            finish(db, event, "bench")
        return event is not None

    def plain() -> bool:
        with db.engine.begin() as conn:
            rows = leases.claim(conn, EVENTS, "bench", utcnow(), lease)
        if rows:
            with db.engine.begin() as conn:
                leases.release(conn, EVENTS, rows[0][0], "bench", state="done", processed_at=utcnow())
        return bool(rows)

    figures = {}
    for name, step in (("plain", plain), ("ordered", ordered)):
        backlog(name)
        if db.is_postgres:  # what autovacuum does to a table that changes this much: plans from real statistics
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE webhook_events")
        start = time.perf_counter()
        while step():
            pass
        figures[name] = (time.perf_counter() - start) * 1000 / events
    db.dispose()
    cost = figures["ordered"] - figures["plain"]
    prefix = f"inbox claim+finish, {events:,} events in {ORDERING_SPACES} spaces ({label})"
    return [
        row(f"{prefix}: ordered per space", figures["ordered"], "ms/event", "(report)"),
        row(f"{prefix}: plain oldest-first (before)", figures["plain"], "ms/event", "(report)"),
        row(f"{prefix}: ordering cost", cost, "ms/event", "(report)"),
    ]


def run(rate: int = 200, seconds: int = 10, burst: int = 2000, postgres: bool = True,
        sqlite: bool = True, serve_burst: int = 300) -> list[dict]:
    """Rows of figures for bench/run.py: name, value, unit, target, baseline (None), ok."""
    if seconds:
        ensure_wrk()
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if postgres:
            with postgres_database("leadsbot_bench", migrate=False) as url:
                rows += run_database("PostgreSQL", url, rate, seconds, burst, folder)
            with postgres_database("leadsbot_bench", migrate=False) as url:
                rows += run_database("PostgreSQL, leadsbot serve", url, rate, seconds, serve_burst, folder, serve)
            with postgres_database("leadsbot_bench", migrate=False) as url:
                rows += ordering_cost("PostgreSQL", url)
        if sqlite:
            rows += run_database("SQLite", f"sqlite:///{folder}/webhooks.db", rate, seconds, burst, folder)
            rows += run_database("SQLite, leadsbot serve", f"sqlite:///{folder}/serve.db", rate, seconds,
                                 serve_burst, folder, serve)
            rows += ordering_cost("SQLite", f"sqlite:///{folder}/ordering.db")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--serve-burst", type=int, default=300)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows = run(args.rate, args.seconds, args.burst, not args.no_postgres, not args.no_sqlite, args.serve_burst)
    print(f"{'figure':<72} {'value':>10} {'unit':<7} {'target':<22} verdict")
    for r in rows:
        print(f"{r['name']:<72} {r['value']:>10.4g} {r['unit']:<7} {r['target']:<22} {'ok' if r['ok'] else 'MISSED'}")


if __name__ == "__main__":
    main()
