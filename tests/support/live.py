"""The running bot on 127.0.0.1 (werkzeug in a thread) with the real SDK against the fake Webex.

`LiveBot.say(...)` writes a message as a user, has the fake deliver the signed webhook, waits
until the inbox has finished that event and returns the bot's new messages in the room.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.serving import make_server

from bot.app import create_app, runtime_of
from bot.bootstrap import Wiring, build_numbers_api
from bot.incoming import Dispatch
from bot.retry import RetryPolicy
from bot.telephony import WebexNumbersApi
from bot.tokens import PartnerToken, TokenSource, token_source
from bot.webex_client import WebexClient
from bot.webhooks_admin import register_service_app_webhooks, register_webhooks
from provisioning.services import Services
from provisioning.settings import Settings
from store.db import Database
from store.models import WebhookEvent
from tests.support.fakewebex.server import FakeWebex
from tests.support.processes import SECRET
from tests.support.waiting import wait_until

ADMIN = "ops@acme.example"
OPERATOR = "eve@acme.example"
STRANGER = "mallory@elsewhere.example"
FINISHED = ("done", "failed")


class Sleeps(list):
    """Records each wait the client asks for (Retry-After, back-off) but waits only briefly."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.01))


def fast_client(fake: FakeWebex, sleeps: Sleeps | None = None) -> WebexClient:
    """The production client; its waits are recorded instead of slowing the suite."""
    return WebexClient(fake.bot_token, fake.base_url, timeout=10,
                       policy=RetryPolicy(attempts=4, base_delay=0.05, max_delay=30),
                       sleep=sleeps if sleeps is not None else Sleeps())


def numbers_adapter(fake: FakeWebex, token: str | None = None, **options) -> WebexNumbersApi:
    """The production numbers adapter pointed at the fake, with the partner's token for every organization."""
    return WebexNumbersApi(fake.base_url, PartnerToken(token or fake.partner_token), **options)


@dataclass
class LiveBot:
    fake: FakeWebex
    db: Database
    settings: Settings
    url: str
    app: object
    sleeps: Sleeps
    numbers_api: WebexNumbersApi | None = None  # with organization credentials in the settings
    tokens: TokenSource | None = None

    def event_state(self, event_id: str) -> str | None:
        with self.db.sessions() as session:
            return session.scalar(select(WebhookEvent.state).where(WebhookEvent.id == event_id))

    def wait_processed(self, event_id: str) -> str:
        assert wait_until(lambda: self.event_state(event_id) in FINISHED), f"event {event_id} not processed"
        return self.event_state(event_id)

    def say(self, email: str, room_id: str, text: str | None, **options) -> list[dict]:
        """A user message delivered as Webex would; returns the bot's replies to it."""
        before = len(self.fake.bot_messages(room_id))
        message = self.fake.user_message(email, room_id, text, **options)
        responses = self.fake.deliver_message(message)
        assert [r.status_code for r in responses] == [202]
        self.wait_processed(message["id"])
        return self.fake.bot_messages(room_id)[before:]

    def press(self, email: str, room_id: str, card_message: dict, inputs: dict) -> list[dict]:
        """A user submitting a card the bot posted; returns the bot's replies."""
        before = len(self.fake.bot_messages(room_id))
        action = self.fake.card_submit(email, room_id, card_message["id"], inputs)
        responses = self.fake.deliver_action(action)
        assert [r.status_code for r in responses] == [202]
        self.wait_processed(action["id"])
        return self.fake.bot_messages(room_id)[before:]


class LiveBots:
    """Starts bots on threads of this process and stops them all at the end."""

    def __init__(self, db: Database, fake: FakeWebex) -> None:
        self.db, self.fake = db, fake
        self._started: list[tuple] = []

    def start(self, dispatch: Dispatch | None = None, **settings_changes) -> LiveBot:
        settings = Settings(database_url=self.db.engine.url.render_as_string(hide_password=False),
                            webex_access_token=self.fake.bot_token, webex_api_base_url=self.fake.base_url,
                            webex_webhook_secret=SECRET, **settings_changes)
        sleeps = Sleeps()
        client = fast_client(self.fake, sleeps)
        tokens = token_source(settings)
        numbers_api = build_numbers_api(settings, tokens)
        wiring = Wiring(Services(self.db, settings, numbers_api), client, numbers_api, tokens)
        app = create_app(wiring=wiring, dispatch=dispatch, inbox_options={"poll_seconds": 0.05})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        self._started.append((server, thread, app))
        url = f"http://127.0.0.1:{server.server_port}/webhooks/webex"
        register_webhooks(client, url, SECRET)
        register_service_app_webhooks(settings, url)
        return LiveBot(self.fake, self.db, settings, url, app, sleeps, numbers_api, tokens)

    def stop_all(self) -> None:
        for server, thread, app in self._started:
            server.shutdown()
            server.server_close()
            thread.join(5)
            runtime_of(app).stop()


def service_app_settings(fake: FakeWebex) -> dict:
    """Settings changes for a bot whose organization tokens come from the fake's Service App."""
    app = fake.service_app
    return {"webex_service_app_client_id": app.client_id, "webex_service_app_client_secret": app.client_secret,
            "webex_token_manager_client_id": app.manager_client_id,
            "webex_token_manager_client_secret": app.manager_client_secret,
            "webex_token_manager_refresh_token": app.manager_refresh_token}


def card_of(message: dict) -> dict:
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]
