"""The Flask app under the test client, with a recording stand-in for Webex and the handlers.

These tests check the transport's own rules (signatures, durable inbox, replies); the real
SDK against the fake Webex server is exercised in tests/e2e.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import pytest

from bot.app import create_app, runtime_of
from bot.bootstrap import Wiring
from handlers.base import Reply, Request, Services
from provisioning.settings import Settings
from tests.support import signing
from tests.support.signing import envelope
from tests.support.waiting import wait_until

__all__ = ["BOT_ID", "SECRET", "drain", "envelope", "post_event", "sign", "wait_until"]

SECRET = "test-webhook-secret"
BOT_ID = "BOT-PERSON-ID"


def sign(body: bytes, secret: str = SECRET) -> str:
    return signing.sign(body, secret)


@dataclass
class RecordingWebex:
    """Answers what the conversation asks and records every call; no network."""

    messages: dict[str, dict] = field(default_factory=dict)
    sent: list[tuple[str, Reply, str | None]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def me(self) -> dict:
        self.calls.append("me")
        return {"id": BOT_ID, "displayName": "leadsbot", "emails": ["leadsbot@webex.bot"]}

    def get_message(self, message_id: str) -> dict:
        self.calls.append(f"get_message {message_id}")
        return self.messages[message_id]

    def send_reply(self, room_id: str, reply: Reply, parent_id: str | None = None) -> list[str]:
        with self.lock:
            self.calls.append(f"send_reply {room_id}")
            self.sent.append((room_id, reply, parent_id))
        return ["REPLY"]

    def send_markdown(self, room_id: str, markdown: str, parent_id: str | None = None) -> list[str]:
        return self.send_reply(room_id, Reply(markdown), parent_id)

    def add_message(self, message_id: str, text: str, email: str = "ops@acme.example", **extra) -> dict:
        self.messages[message_id] = {"id": message_id, "roomId": "ROOM-1", "roomType": "direct",
                                     "text": text, "personId": "PERSON-1", "personEmail": email, **extra}
        return self.messages[message_id]


@dataclass
class RecordingDispatch:
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, services: Services, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
        return Reply(f"you said: {request.text}")


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(database_url=db_url, webex_access_token="token-not-used",
                    webex_webhook_secret=SECRET)


@pytest.fixture
def webex() -> RecordingWebex:
    return RecordingWebex()


@pytest.fixture
def recorded() -> RecordingDispatch:
    return RecordingDispatch()


@pytest.fixture
def app(db, settings, webex, recorded):
    """Workers stopped: tests drive the inbox with run_once() so nothing races them."""
    wiring = Wiring(Services(db=db, settings=settings), webex, None)
    application = create_app(wiring=wiring, start_workers=False, dispatch=recorded)
    yield application
    runtime_of(application).stop()


@pytest.fixture
def client(app):
    return app.test_client()


def post_event(client, event: dict | bytes, signature: str | None = "sign", **headers):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["X-Spark-Signature"] = signature
    return client.post("/webhooks/webex", data=body, headers=headers, content_type="application/json")


def drain(app) -> int:
    """Process every due event in this thread; returns how many were processed."""
    inbox = runtime_of(app).inbox
    count = 0
    while inbox.run_once():
        count += 1
    return count
