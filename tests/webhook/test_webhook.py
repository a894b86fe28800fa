"""POST /webhooks/webex and GET /healthz through Flask's test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.app import create_app
from bot.bootstrap import Wiring
from bot.webhook import MAX_BODY_BYTES
from handlers.base import Services
from store.db import Database, make_engine
from store.models import WebhookEvent
from tests.webhook.conftest import drain, envelope, post_event, sign


def events_in(db) -> list[WebhookEvent]:
    with db.sessions() as session:
        return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.received_at)))


def unreachable_database(tmp_path) -> Database:
    """A database whose every use fails: proves a code path never touched it."""
    engine = make_engine(f"sqlite:///{tmp_path}/missing-dir/none.db")
    return Database(engine, sessionmaker(engine))


def test_missing_signature_is_401_and_nothing_recorded(client, db, webex):
    response = post_event(client, envelope("MSG-1"), signature=None)
    assert response.status_code == 401
    assert events_in(db) == []
    assert webex.calls == []


def test_bad_signature_is_401_and_nothing_recorded(client, db):
    body = json.dumps(envelope("MSG-1")).encode()
    assert post_event(client, body, signature=sign(body, "wrong-secret")).status_code == 401
    assert post_event(client, body, signature="not-hex-ü").status_code == 401
    assert post_event(client, body + b" ", signature=sign(body)).status_code == 401
    assert events_in(db) == []


def test_signature_is_checked_before_the_database_is_touched(tmp_path, settings, webex, recorded):
    app = create_app(wiring=Wiring(Services(unreachable_database(tmp_path), settings), webex, None),
                      start_workers=False, dispatch=recorded)
    body = json.dumps(envelope("MSG-1")).encode()
    response = post_event(app.test_client(), body, signature=sign(body, "forged"))
    assert response.status_code == 401


def test_signed_event_is_recorded_and_acknowledged_without_calling_webex(client, db, webex, recorded):
    response = post_event(client, envelope("MSG-1"))
    assert response.status_code == 202
    assert response.get_json() == {"accepted": True, "duplicate": False}
    [event] = events_in(db)
    assert (event.id, event.resource, event.event, event.state) == ("MSG-1", "messages", "created", "pending")
    assert json.loads(event.payload)["data"]["id"] == "MSG-1"
    assert webex.calls == [] and recorded.requests == []


def test_redelivery_is_acknowledged_and_processed_once(app, client, db, webex, recorded):
    webex.add_message("MSG-1", "help")
    first = post_event(client, envelope("MSG-1"))
    again = post_event(client, envelope("MSG-1"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["duplicate"] is True
    assert drain(app) == 1
    assert post_event(client, envelope("MSG-1")).get_json()["duplicate"] is True
    assert drain(app) == 0
    assert [r.text for r in recorded.requests] == ["help"]
    assert [reply.markdown for _, reply, _ in webex.sent] == ["you said: help"]
    assert [e.state for e in events_in(db)] == ["done"]


def test_malformed_or_foreign_bodies_never_get_a_5xx(client, db):
    for body in (b"{not json", b"[1, 2]", b'{"resource": "messages", "event": "created"}',
                 b"\xff\xfe\x00garbage", b"[" * 100_000 + b"]" * 100_000):
        response = post_event(client, body)
        assert 400 <= response.status_code < 500, body[:20]
    no_id = envelope("")
    assert post_event(client, no_id).status_code == 400
    listed = dict(envelope("X"), resource=["messages"])
    assert post_event(client, listed).status_code == 200
    assert events_in(db) == []


def test_unknown_resources_are_acknowledged_and_ignored(client, db):
    for resource, event in (("rooms", "created"), ("memberships", "deleted"), ("messages", "deleted")):
        response = post_event(client, envelope("ID-1", resource=resource, event=event))
        assert response.status_code == 200
        assert "ignored" in response.get_json()
    assert events_in(db) == []


def test_oversized_body_is_413_and_not_recorded(client, db):
    body = json.dumps(envelope("MSG-1", padding="x" * MAX_BODY_BYTES)).encode()
    assert post_event(client, body).status_code == 413
    assert events_in(db) == []


def test_webhooks_are_refused_when_no_secret_is_configured(db, settings, webex, recorded):
    unsigned = settings.__class__(database_url=settings.database_url, webex_access_token="t")
    app = create_app(wiring=Wiring(Services(db, unsigned), webex, None), start_workers=False,
                     dispatch=recorded)
    body = json.dumps(envelope("MSG-1")).encode()
    assert post_event(app.test_client(), body, signature=sign(body, "")).status_code == 401
    assert events_in(db) == []


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_is_503_when_the_database_is_down(tmp_path, settings, webex, recorded):
    app = create_app(wiring=Wiring(Services(unreachable_database(tmp_path), settings), webex, None),
                      start_workers=False, dispatch=recorded)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable", "inbox_workers": 0,
                                   "reasons": ["the database is unreachable: check DATABASE_URL"]}


def test_database_down_while_recording_is_503_so_webex_retries(tmp_path, settings, webex, recorded):
    app = create_app(wiring=Wiring(Services(unreachable_database(tmp_path), settings), webex, None),
                      start_workers=False, dispatch=recorded)
    assert post_event(app.test_client(), envelope("MSG-1")).status_code == 503


def test_many_deliveries_are_all_recorded(client, db):
    for n in range(30):
        assert post_event(client, envelope(f"MSG-{n}")).status_code == 202
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 30


def test_signed_bodies_the_store_cannot_hold_are_400_never_5xx(client, db):
    """A lone surrogate in `data.id` gave 500 and a NUL 503: Webex would have kept redelivering."""
    bodies = [
        b'{"resource": "messages", "event": "created", "data": {"id": "\\ud800", "roomId": "R"}}',
        b'{"resource": "messages", "event": "created", "data": {"id": "A\\u0000B", "roomId": "R"}}',
        b'{"resource": "messages", "event": "created", "data": {"id": "OK", "roomId": "R\\u0000"}}',
        b'{"resource": "messages", "event": "created", "data": {"id": "OK", "roomId": "R", "x": ["\\udfff"]}}',
    ]
    for body in bodies:
        response = post_event(client, body)
        assert response.status_code == 400, body
    assert events_in(db) == []


def test_a_card_action_reusing_a_message_id_does_not_suppress_the_message(app, client, db, webex, recorded):
    webex.add_message("SHARED-ID", "leads")
    assert post_event(client, envelope("SHARED-ID", resource="attachmentActions")).status_code == 202
    response = post_event(client, envelope("SHARED-ID"))
    assert response.status_code == 202 and response.get_json()["duplicate"] is False
    assert sorted(e.resource for e in events_in(db)) == ["attachmentActions", "messages"]
