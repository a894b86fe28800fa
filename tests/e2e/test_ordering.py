"""One space, one conversation (SPEC §7): a space's events answered in the order sent, across processes."""
from __future__ import annotations

import signal
import subprocess
import sys

from sqlalchemy import select

from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store.models import WebhookEvent
from tests.support.live import OPERATOR, wait_until
from tests.support.processes import ROOT, environment, free_port, gunicorn_command, start, stop
from tests.support.webhooks_admin_cli import register_at

SPACES = 4


def upload(n: int) -> str:
    return f"upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center +3902123456{n:02d}"


def send_back_to_back(fake, rooms: list[str]) -> list[dict]:
    """`upload`, `submit`, `numbers` in every space, delivered before any is answered."""
    messages = []
    for step in range(3):
        for n, room in enumerate(rooms):
            text = [upload(n), "submit", "numbers roma-cc"][step]
            message = fake.user_message(OPERATOR, room, text)
            assert [r.status_code for r in fake.deliver_message(message)] == [202]
            messages.append(message)
    return messages


def all_finished(db, ids: set[str]) -> bool:
    with db.sessions() as session:
        states = session.scalars(select(WebhookEvent.state).where(WebhookEvent.id.in_(ids))).all()
    return len(states) == len(ids) and set(states) <= {"done", "failed"}


def assert_answered_in_order(fake, rooms: list[str]) -> None:
    for n, room in enumerate(rooms):
        replies = [m.get("markdown") or m.get("text") or "" for m in fake.bot_messages(room)]
        assert len(replies) == 4, replies  # preview, its Submit/Cancel card, submitted, the numbers
        preview, card, submitted, numbers = replies
        assert "**1** valid" in preview, replies
        assert fake.bot_messages(room)[1].get("attachments"), "the card comes right after the preview"
        assert "submitted" in submitted, replies
        assert f"+3902123456{n:02d}" in numbers, replies


def test_back_to_back_commands_are_answered_in_order_in_every_space(live):
    rooms = [live.fake.add_room(f"ops {n}", "direct") for n in range(SPACES)]
    messages = send_back_to_back(live.fake, rooms)
    assert wait_until(lambda: all_finished(live.db, {m["id"] for m in messages}), timeout=60)
    assert_answered_in_order(live.fake, rooms)


def test_order_holds_with_two_worker_processes(db, fake_webex):
    """The Procfile shape with two `leadsbot worker` processes taking events from one inbox."""
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    env = environment(db, fake_webex)
    web = start(gunicorn_command(port, "bot.app:create_app(start_workers=False)"), env, port)
    workers = []
    try:
        register_at(fake_webex, f"http://127.0.0.1:{port}/webhooks/webex")
        rooms = [fake_webex.add_room(f"ops {n}", "direct") for n in range(SPACES)]
        messages = send_back_to_back(fake_webex, rooms)
        workers = [subprocess.Popen([sys.executable, "-m", "bot", "worker", "--threads", "3"], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
        assert wait_until(lambda: all_finished(db, {m["id"] for m in messages}), timeout=90)
        assert_answered_in_order(fake_webex, rooms)
        with db.sessions() as session:
            holders = set(session.scalars(select(WebhookEvent.error).where(WebhookEvent.state == "failed")))
        assert holders == set()
    finally:
        for worker in workers:
            stop(worker, signal.SIGINT)
        stop(web, signal.SIGINT)
