"""GET /healthz is 200 only when the process can do its job, else 503 with reasons (SPEC §9)."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import text

from bot.app import create_app, runtime_of
from bot.bootstrap import Wiring
from provisioning.services import Services
from store import heartbeats
from store.db import head_revision
from store.models import utcnow


def health_of(db, settings, webex, recorded, *, expect_scheduler: bool = False, webhook_mode: bool = True):
    app = create_app(wiring=Wiring(Services(db=db, settings=settings), webex, None), start_workers=False,
                     dispatch=recorded)
    runtime = runtime_of(app)
    runtime.expect_scheduler, runtime.webhook_mode = expect_scheduler, webhook_mode
    response = app.test_client().get("/healthz")
    runtime.stop()
    return response.status_code, response.get_json()


def test_ok_when_everything_is_set(db, settings, webex, recorded):
    status, body = health_of(db, settings, webex, recorded)
    assert status == 200
    assert body["status"] == "ok" and body["reasons"] == [] and body["database"] == "ok"


def test_no_bot_token_and_no_webhook_secret_are_503_with_both_reasons(db, settings, webex, recorded):
    bare = dataclasses.replace(settings, webex_access_token="", webex_webhook_secret="")
    status, body = health_of(db, bare, None, recorded)
    assert status == 503 and body["status"] == "unavailable"
    assert body["reasons"] == ["WEBEX_ACCESS_TOKEN is not set: the bot cannot read messages or reply",
                               "WEBEX_WEBHOOK_SECRET is not set: every webhook delivery is refused"]


def test_the_webhook_secret_is_not_needed_when_events_do_not_come_by_webhook(db, settings, webex, recorded):
    status, body = health_of(db, dataclasses.replace(settings, webex_webhook_secret=""), webex, recorded,
                             webhook_mode=False)
    assert status == 200, body


def test_a_schema_behind_the_release_is_503(db, settings, webex, recorded):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    try:
        status, body = health_of(db, settings, webex, recorded)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    assert status == 503
    assert body["reasons"] == [(f"the database schema is at 0005, this release needs {head_revision()}: "
                                "run `leadsbot db upgrade`")]


def test_a_stale_heartbeat_is_503_only_where_the_scheduler_runs(db, settings, webex, recorded):
    heartbeats.beat(db, heartbeats.SCHEDULER, "old", at=utcnow() - timedelta(minutes=10))
    status, body = health_of(db, settings, webex, recorded, expect_scheduler=True)
    assert status == 503
    assert len(body["reasons"]) == 1 and "last heartbeat is 6" in body["reasons"][0]
    status, body = health_of(db, settings, webex, recorded)  # the Procfile's web: shown, not failed
    assert status == 200 and body["scheduler_heartbeat_age_seconds"] >= 600
    heartbeats.beat(db, heartbeats.SCHEDULER, "new")
    status, body = health_of(db, settings, webex, recorded, expect_scheduler=True)
    assert status == 200 and body["scheduler_heartbeat_age_seconds"] < 300
