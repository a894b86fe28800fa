"""Load (issue 6): a burst of signed webhook deliveries, a tenth of them redeliveries, against real
gunicorn with two workers and the fake Webex: every distinct event is processed exactly once,
none is lost, nothing is answered with a 5xx.

This is the CI-sized burst; `bench/bench_webhooks.py` runs the full 2,000 and measures latency.
"""
from __future__ import annotations

import random
import signal
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.webhooks_admin import register_webhooks
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store.db import Database
from store.models import WebhookEvent
from tests.support.fakewebex.server import FakeWebex
from tests.support.live import OPERATOR, fast_client, wait_until
from tests.support.processes import (
    SECRET,
    environment,
    free_port,
    gunicorn_command,
    start,
    stop,
)

DISTINCT = 270
REDELIVERED = 30  # a tenth of the 300 deliveries
SENDERS = 16
# What tells the two replies apart (and from an apology or a refusal).
MARKERS = {"help": "Commands:", "leads": "Pending Consent"}


def states(db: Database) -> Counter:
    with db.sessions() as session:
        rows = session.execute(select(WebhookEvent.state, func.count()).group_by(WebhookEvent.state))
        return Counter(dict(rows.all()))


def user_messages(fake: FakeWebex, count: int) -> list[dict]:
    """`count` messages of the operator, alternating `help` and `leads`, each in a room of its own
    so that every reply can be matched to the message it answers."""
    commands = list(MARKERS)
    return [fake.user_message(OPERATOR, fake.add_room(f"ops {n}", "direct"), commands[n % 2])
            for n in range(count)]



def test_a_burst_with_redeliveries_is_processed_exactly_once(db, fake_webex):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/webex"
    process = start(gunicorn_command(port, workers=2), environment(db, fake_webex), port)
    try:
        register_webhooks(fast_client(fake_webex), url, SECRET)
        messages = user_messages(fake_webex, DISTINCT)
        envelopes = [fake_webex.message_envelope(m) for m in messages]
        deliveries = envelopes + random.Random(6).sample(envelopes, REDELIVERED)
        random.Random(2000).shuffle(deliveries)
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            responses = list(pool.map(fake_webex.deliver, deliveries))

        assert Counter(r.status_code for r in responses) == {202: DISTINCT + REDELIVERED}
        first_sightings = Counter(r.json()["duplicate"] for r in responses)
        assert first_sightings == {False: DISTINCT, True: REDELIVERED}, "each data.id is new exactly once"
        assert wait_until(lambda: states(db)["done"] == DISTINCT or states(db)["failed"] > 0, timeout=60)
        assert states(db) == {"done": DISTINCT}

        with db.sessions() as session:
            recorded = set(session.scalars(select(WebhookEvent.id)))
        assert recorded == {m["id"] for m in messages}
        replies: dict[str, list[str]] = {}
        for reply in fake_webex.bot_messages():
            replies.setdefault(reply["roomId"], []).append(reply["markdown"])
        for message in messages:
            answers = replies.pop(message["roomId"], [])
            assert len(answers) == 1, f"{len(answers)} replies to one message"
            assert MARKERS[message["text"]] in answers[0], answers[0][:300]
        assert replies == {}, "replies in rooms nobody wrote in"
    finally:
        code, output = stop(process, signal.SIGINT)
    assert code == 0, output
    assert "Traceback" not in output, output[-3000:]
