"""The server killed between acknowledging events and processing them (issue 6, SPEC §7).

gunicorn (two workers, two inbox threads each) acknowledges a batch of events; the fake Webex
answers the first reads of a message slowly, so four events are claimed and in hand while the
rest wait in the inbox. Then the whole process group gets SIGKILL, with no chance to clean up.
A new server must answer every event exactly once: the waiting ones at once, the ones in hand
when the dead workers' leases expire (short here, via the app factory's arguments).
"""
from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.webhooks_admin import register_webhooks
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store.db import Database
from store.models import WebhookEvent
from tests.support.fakewebex.server import FakeWebex
from tests.support.live import OPERATOR, fast_client, wait_until
from tests.support.processes import (
    ROOT,
    SECRET,
    environment,
    free_port,
    gunicorn_command,
    healthy,
)

EVENTS = 12
# Three operators: one event of each person is in hand at a time (SPEC §7), so three workers each
# claim one event and wait for Webex.
SENDERS = (OPERATOR, "ops@acme.example", "bob@globex.example")
IN_HAND = len(SENDERS)
HOLD_SECONDS = 15  # far longer than it takes to kill the server once the events are in hand
READ_MESSAGE = r"^/v1/messages/[^/]+$"
APP = "bot.app:create_app(inbox_options={'lease_seconds': 2, 'poll_seconds': 0.2})"
MARKERS = {"help": "Commands:", "leads": "Pending Consent"}


def launch(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """gunicorn in a process group of its own, so the master and its workers die together."""
    command = gunicorn_command(port, APP, workers=2)
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    if not wait_until(lambda: healthy(port) or process.poll() is not None, timeout=30) or not healthy(port):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
    return process


def kill_group(process: subprocess.Popen, how: signal.Signals) -> int:
    if process.poll() is None:
        os.killpg(process.pid, how)
    return process.wait(30)


def states(db: Database) -> Counter:
    """Events by state, a pending event under a worker's lease counted as "in hand"."""
    with db.sessions() as session:
        rows = session.execute(select(WebhookEvent.state, WebhookEvent.locked_by.is_not(None)))
        return Counter("in hand" if state == "pending" and leased else state for state, leased in rows)


def message_reads(fake: FakeWebex) -> int:
    return sum(1 for r in fake.requests if r.method == "GET" and r.path.startswith("/v1/messages/"))


def deliver(fake: FakeWebex, message: dict) -> dict:
    response = fake.deliver(fake.message_envelope(message))
    assert response.status_code == 202
    return response.json()


def test_events_acknowledged_before_a_kill_are_each_answered_once_after_restart(db, fake_webex, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    # A metrics folder of the test's own: a killed gunicorn cannot remove a temporary one, and the
    # restart must start from an empty one although the killed run left its files there.
    env = {**environment(db, fake_webex), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    log = tmp_path / "gunicorn.log"
    fake_webex.fail_next("GET", READ_MESSAGE, None, times=IN_HAND, delay=HOLD_SECONDS)
    messages = [fake_webex.user_message(SENDERS[n % 3], fake_webex.add_room(f"ops {n}"),
                                        list(MARKERS)[n % 2] if n % 3 == 0 else "help")
                for n in range(EVENTS)]

    port = free_port()
    first = launch(env, port, log)
    try:
        register_webhooks(fast_client(fake_webex), f"http://127.0.0.1:{port}/webhooks/webex", SECRET)
        assert [deliver(fake_webex, m) for m in messages] == [{"accepted": True, "duplicate": False}] * EVENTS
        assert wait_until(lambda: states(db)["in hand"] == IN_HAND and message_reads(fake_webex) == IN_HAND), (states(db), message_reads(fake_webex), log.read_text()[-3000:])
    finally:
        assert kill_group(first, signal.SIGKILL) == -signal.SIGKILL
    assert states(db) == {"in hand": IN_HAND, "pending": EVENTS - IN_HAND}
    assert fake_webex.bot_messages() == []

    port = free_port()
    second = launch(env, port, log)
    try:
        assert wait_until(lambda: states(db)["done"] == EVENTS or states(db)["failed"] > 0, timeout=30), states(db)
        assert states(db) == {"done": EVENTS}
    finally:
        assert kill_group(second, signal.SIGINT) == 0, log.read_text()[-3000:]

    with db.sessions() as session:
        attempts = Counter(session.scalars(select(WebhookEvent.attempts)))
    assert attempts == {1: EVENTS - IN_HAND, 2: IN_HAND}, "only the events in hand were started twice"
    replies = Counter(reply["roomId"] for reply in fake_webex.bot_messages())
    assert replies == {m["roomId"]: 1 for m in messages}
    for message in messages:
        [reply] = fake_webex.bot_messages(message["roomId"])
        assert MARKERS[message["text"]] in reply["markdown"]
    assert "Traceback" not in log.read_text()
