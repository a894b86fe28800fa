"""`serve --websocket` end to end: the real listener over real websockets against the fake Webex events.

The fake serves the U2C catalog, the device service and the websocket on 127.0.0.1; messages
are then read through the fake Webex REST API by the same inbox that handles webhooks.
"""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.app import build_inbox
from bot.bootstrap import Wiring
from bot.devices import Devices
from bot.websocket import Listener, recorder
from provisioning.backoff import Backoff
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.services import Services
from provisioning.settings import Settings
from store.models import WebhookEvent
from tests.support.fakewebex.websocket import FakeWebexEvents
from tests.support.live import OPERATOR, card_of, fast_client
from tests.support.processes import ROOT, environment, free_port, start, stop
from tests.support.waiting import wait_until

UPLOAD = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center +390212345670"


class WebsocketBot:
    """The listener and the inbox in this process, as `serve --websocket` runs them."""

    def __init__(self, db, fake, events: FakeWebexEvents) -> None:
        self.db, self.fake, self.events = db, fake, events
        settings = Settings(database_url=db.engine.url.render_as_string(hide_password=False),
                            webex_access_token=fake.bot_token, webex_api_base_url=fake.base_url,
                            webex_u2c_url=events.u2c_url)
        self.inbox = build_inbox(Wiring(Services(db, settings), fast_client(fake), None), poll_seconds=0.05)
        self.listener = Listener(Devices(events.u2c_url, fake.bot_token), fake.bot_token,
                                 recorder(db, self.inbox.wake), backoff=Backoff(base=0.05, cap=0.2))

    def start(self) -> WebsocketBot:
        self.inbox.start()
        self.listener.start()
        assert self.events.wait_connected()
        return self

    def stop(self) -> None:
        self.listener.stop()
        self.inbox.stop()

    def say(self, room: str, text: str, email: str = OPERATOR) -> list[dict]:
        """A user message sent over the websocket; the bot's replies once its event is processed."""
        message = self.fake.user_message(email, room, text)
        before = len(self.fake.bot_messages(room))
        self.events.push(self.events.message_activity(message))
        assert wait_until(lambda: self.state(message["id"]) in ("done", "failed")), "event not processed"
        return self.fake.bot_messages(room)[before:]

    def state(self, event_id: str) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(select(WebhookEvent.state).where(WebhookEvent.id == event_id))


@pytest.fixture
def events(fake_webex) -> Iterator[FakeWebexEvents]:
    with FakeWebexEvents(fake_webex) as fake_events:
        yield fake_events


@pytest.fixture
def bot(db, fake_webex, events) -> Iterator[WebsocketBot]:
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    running = WebsocketBot(db, fake_webex, events).start()
    yield running
    running.stop()


def test_a_message_over_the_websocket_is_answered_and_acknowledged(bot, fake_webex, events):
    room = fake_webex.add_room("ops", "direct")
    [reply] = bot.say(room, "leads")
    assert "roma-cc" in reply["markdown"]
    assert events.registrations == 1
    with bot.db.sessions() as session:
        event = session.scalar(select(WebhookEvent))
    assert (event.resource, event.room_id) == ("messages", room)
    assert wait_until(lambda: len(events.acks) == 1)


def test_a_card_action_over_the_websocket_submits_the_preview(bot, fake_webex, events):
    room = fake_webex.add_room("ops", "direct")
    preview, card_message = bot.say(room, UPLOAD)
    assert "**1** valid" in preview["markdown"]
    submit = next(a for a in card_of(card_message)["actions"] if a["title"] == "Submit")
    action = fake_webex.card_submit(OPERATOR, room, card_message["id"], submit["data"])
    events.push(events.action_activity(action, OPERATOR))
    assert wait_until(lambda: bot.state(action["id"]) == "done")
    assert "submitted" in fake_webex.bot_messages(room)[-1]["markdown"]


def test_a_duplicate_event_is_processed_once(bot, fake_webex, events):
    room = fake_webex.add_room("ops", "direct")
    message = fake_webex.user_message(OPERATOR, room, "leads")
    frame = events.message_activity(message)
    events.push(frame)
    events.push({**frame, "id": "another-frame-id"})  # Webex sent the same activity again
    assert wait_until(lambda: bot.state(message["id"]) == "done")
    assert wait_until(lambda: len(events.acks) == 2)
    assert not wait_until(lambda: len(fake_webex.bot_messages(room)) > 1, timeout=1)
    with bot.db.sessions() as session:
        assert len(session.scalars(select(WebhookEvent.seq)).all()) == 1


def test_a_dropped_connection_is_reopened_and_pings_are_answered(bot, fake_webex, events):
    assert events.ping() >= 0
    events.drop()
    assert wait_until(lambda: bot.listener.connections == 2 and len(events.authorized) == 1)
    room = fake_webex.add_room("ops", "direct")
    [reply] = bot.say(room, "help")
    assert "upload" in reply["markdown"]
    assert events.registrations == 1  # the device was still known: reused, not registered again


def test_a_404_handshake_registers_a_new_device(bot, fake_webex, events):
    events.forget_devices()
    assert wait_until(lambda: events.registrations == 2 and len(events.authorized) == 1)
    room = fake_webex.add_room("ops", "direct")
    [reply] = bot.say(room, "leads")
    assert "roma-cc" in reply["markdown"]


def test_leadsbot_serve_websocket_answers_and_keeps_healthz(db, fake_webex, events):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    env = {**environment(db, fake_webex), "WEBEX_U2C_URL": events.u2c_url}
    command = [sys.executable, "-m", "bot", "serve", "--websocket", "--port", str(port)]
    process = start(command, env, port)
    try:
        assert events.wait_connected()
        room = fake_webex.add_room("ops", "direct")
        message = fake_webex.user_message(OPERATOR, room, "leads")
        events.push(events.message_activity(message))
        assert wait_until(lambda: len(fake_webex.bot_messages(room)) == 1)
        assert "roma-cc" in fake_webex.bot_messages(room)[0]["markdown"]
    finally:
        code, output = stop(process)
    assert code == 0, output
    assert "Webex websocket" in output and fake_webex.bot_token not in output


def test_serve_websocket_with_a_refused_token_says_so_in_one_line(db, fake_webex, events):
    env = {**environment(db, fake_webex), "WEBEX_U2C_URL": events.u2c_url, "WEBEX_ACCESS_TOKEN": "wrong"}
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--websocket", "--port", str(free_port())],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Error: Webex refused the bot token (401)" in result.stderr
    assert "Traceback" not in result.stderr
