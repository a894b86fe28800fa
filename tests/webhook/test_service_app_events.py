"""`serviceApp` authorized/deauthorized deliveries: recorded by a hash of the body, then consent is
checked against the fake's token endpoints (SPEC §5.1); on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.app import create_app, runtime_of
from bot.bootstrap import Wiring
from bot.service_app import event_key
from bot.tokens import PartnerToken, ServiceAppTokens
from bot.webhooks_admin import register_service_app_webhooks, register_webhooks
from handlers.base import Services
from provisioning import consent
from provisioning.settings import Settings
from store.models import OrganizationConsent, WebhookEvent, utcnow
from tests.support.factories import make_service
from tests.support.live import fast_client, service_app_settings
from tests.webhook.conftest import SECRET, drain, post_event

ORG = "ORG-ROMA"


def service_app_event(event: str, org: str | None = ORG, stamp: str = "2026-12-01T00:00:00.000Z") -> dict:
    data = {"applicationId": "APP", "event": event, "created": stamp}
    if org is not None:
        data["authorizerOrgId"] = org
    return {"id": "HOOK-1", "name": "leadsbot serviceApp:" + event, "resource": "serviceApp", "event": event,
            "orgId": "ORG-SP", "createdBy": "PERSON", "appId": "APP", "data": data}


@pytest.fixture
def tokens(fake_webex) -> ServiceAppTokens:
    app = fake_webex.service_app
    return ServiceAppTokens(fake_webex.base_url, client_id=app.client_id, client_secret=app.client_secret,
                            manager_client_id=app.manager_client_id,
                            manager_client_secret=app.manager_client_secret,
                            manager_refresh_token=app.manager_refresh_token)


@pytest.fixture
def org_app(db, settings, webex, recorded, tokens, fake_webex):
    with db.sessions.begin() as session:
        make_service(session, org_id=ORG, consented=False)
    settings = replace(settings, webex_api_base_url=fake_webex.base_url)
    application = create_app(wiring=Wiring(Services(db=db, settings=settings), webex, None, tokens),
                             start_workers=False, dispatch=recorded)
    yield application
    runtime_of(application).stop()


def consent_row(db) -> OrganizationConsent | None:
    with db.sessions() as session:
        return session.get(OrganizationConsent, ORG)


def test_an_authorized_event_is_recorded_once_by_its_body_and_checks_consent(org_app, db, fake_webex):
    client = org_app.test_client()
    body = json.dumps(service_app_event("authorized")).encode()
    fake_webex.authorize(ORG)

    first = post_event(client, body)
    again = post_event(client, body)

    assert first.status_code == 202 and again.json["duplicate"] is True
    with db.sessions() as session:
        [recorded] = session.scalars(select(WebhookEvent)).all()
    assert recorded.id == event_key(body) and recorded.resource == "serviceApp"
    assert drain(org_app) == 1
    row = consent_row(db)
    assert row.state == "consented" and row.consented_on is not None
    assert fake_webex.orgauth.token_requests == [ORG]


def test_a_token_the_telephony_api_refuses_is_no_consent_either(org_app, db, fake_webex):
    fake_webex.authorize(ORG)
    fake_webex.orgauth.outdated.add(ORG)  # the app's scopes changed since the admin authorized it
    post_event(org_app.test_client(), service_app_event("authorized"))
    drain(org_app)
    assert consent_row(db).state == "pending" and consent_row(db).last_error.startswith("[403]")


def test_an_authorized_event_webex_does_not_confirm_leaves_the_org_pending(org_app, db):
    post_event(org_app.test_client(), service_app_event("authorized"))
    drain(org_app)
    assert consent_row(db).state == "pending" and "not authorized" in consent_row(db).last_error


def test_a_deauthorized_event_pauses_the_org_at_once(org_app, db, tokens, fake_webex):
    fake_webex.authorize(ORG)
    tokens.token_for(ORG)
    with db.sessions.begin() as session:
        consent.granted(session, ORG, utcnow())
    fake_webex.deauthorize(ORG)

    post_event(org_app.test_client(), service_app_event("deauthorized", stamp="2026-12-01T01:00:00.000Z"))
    drain(org_app)

    assert consent_row(db).state == "pending" and consent_row(db).last_error == consent.DEAUTHORIZED
    assert tokens._orgs == {}  # its cached token is forgotten too


@pytest.mark.parametrize("org", [None, ""])
def test_an_event_without_an_org_is_acknowledged_and_ignored(org_app, db, org):
    post_event(org_app.test_client(), service_app_event("authorized", org=org))
    assert drain(org_app) == 1 and consent_row(db) is None


def test_without_a_service_app_the_events_change_nothing(db, settings, webex, recorded):
    application = create_app(wiring=Wiring(Services(db=db, settings=settings), webex, None, PartnerToken("p")),
                             start_workers=False, dispatch=recorded)
    try:
        post_event(application.test_client(), service_app_event("deauthorized"))
        assert drain(application) == 1
    finally:
        runtime_of(application).stop()
    assert consent_row(db) is None


def test_register_adds_the_service_app_webhooks_with_the_token_managers_token(fake_webex):
    url = "https://leadsbot.example/webhooks/webex"
    settings = Settings(webex_api_base_url=fake_webex.base_url, webex_webhook_secret=SECRET,
                        **service_app_settings(fake_webex))
    register_webhooks(fast_client(fake_webex), url, SECRET)
    ids = register_service_app_webhooks(settings, url)
    again = register_service_app_webhooks(settings, url)  # idempotent

    assert ids == again and len(ids) == 2
    hooks = {(h["resource"], h["event"]) for h in fake_webex.webhooks}
    assert hooks == {("messages", "created"), ("attachmentActions", "created"),
                     ("serviceApp", "authorized"), ("serviceApp", "deauthorized")}
    creates = [r for r in fake_webex.requests if r.method == "POST" and r.path == "/v1/webhooks"]
    service_app_posts = [r for r in creates if r.json["resource"] == "serviceApp"]
    assert all(r.headers["Authorization"].startswith("Bearer fake-manager-token-") for r in service_app_posts)
    assert register_service_app_webhooks(Settings(webex_api_base_url=fake_webex.base_url), url) == []
