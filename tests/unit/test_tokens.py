"""Organization tokens (bot/tokens.py) over real HTTP to the fake's token endpoints (SPEC §5.1)."""
from __future__ import annotations

import logging

import pytest

from bot.bootstrap import build_numbers_api, build_wiring
from bot.telephony import WebexNumbersApi
from bot.tokens import PartnerToken, ServiceAppTokens, application_id, token_source
from provisioning.settings import Settings
from provisioning.sync.port import ConsentMissing, PermanentApiError, TransientApiError
from tests.support.factories import e164s
from tests.support.live import service_app_settings

ORG, OTHER, LOC = "ORG-ROMA", "ORG-BAGELS", "LOC-MILAN"
TOKEN_PATH = r"/v1/applications/[^/]+/token$"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def service_app(fake, clock=None, **changes) -> ServiceAppTokens:
    app = fake.service_app
    options = dict(client_id=app.client_id, client_secret=app.client_secret, manager_client_id=app.manager_client_id,
                   manager_client_secret=app.manager_client_secret,
                   manager_refresh_token=app.manager_refresh_token, timeout=2)
    options.update(changes)
    return ServiceAppTokens(fake.base_url, clock=clock or Clock(), **options)


def token_posts(fake) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.startswith("/v1/applications/")]


def test_the_application_id_is_the_unpadded_base64url_of_the_service_apps_uri(fake_webex):
    assert application_id("C123") == "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL0MxMjM"
    fake_webex.authorize(ORG)
    service_app(fake_webex).token_for(ORG)
    [post] = token_posts(fake_webex)
    assert post.path == f"/v1/applications/{fake_webex.service_app.app_id}/token"
    assert post.json == {"clientId": fake_webex.service_app.client_id,
                         "clientSecret": fake_webex.service_app.client_secret, "targetOrgId": ORG}
    [refresh] = [r for r in fake_webex.requests if r.path == "/v1/access_token"]
    assert refresh.form["grant_type"] == "refresh_token"
    assert post.headers["Authorization"].startswith("Bearer fake-manager-token-")


def test_tokens_are_cached_per_org_and_refreshed_before_they_expire(fake_webex):
    fake_webex.authorize(ORG)
    fake_webex.authorize(OTHER)
    clock = Clock()
    tokens = service_app(fake_webex, clock)
    first = tokens.token_for(ORG)
    assert tokens.token_for(ORG) == first and tokens.token_for(OTHER) != first
    assert fake_webex.orgauth.token_requests == [ORG, OTHER] and fake_webex.orgauth.refreshes == 1

    clock.now += 3600 - 299  # less than five minutes before the hour is up
    renewed = tokens.token_for(ORG)
    assert renewed != first and fake_webex.orgauth.token_requests == [ORG, OTHER, ORG]
    assert fake_webex.orgauth.refreshes == 2  # the token manager's token had the same lifetime


def test_a_403_from_the_token_endpoint_means_no_consent_yet(fake_webex):
    tokens = service_app(fake_webex)
    with pytest.raises(ConsentMissing, match="not authorized the Service App") as raised:
        tokens.token_for(ORG)
    assert raised.value.org_id == ORG
    fake_webex.authorize(ORG)
    assert tokens.token_for(ORG).startswith("fake-org-token-")


def test_a_refused_token_is_not_handed_out_again(fake_webex):
    fake_webex.authorize(ORG)
    tokens = service_app(fake_webex)
    first = tokens.token_for(ORG)
    tokens.refused(ORG, "some-other-token")
    assert tokens.token_for(ORG) == first
    tokens.refused(ORG, first)
    assert tokens.token_for(ORG) != first


def test_a_token_manager_token_revoked_early_is_refreshed_once(fake_webex):
    fake_webex.authorize(ORG)
    tokens = service_app(fake_webex)
    tokens.token_for(ORG)
    fake_webex.orgauth.expire(tokens.manager_token())
    tokens.refused(ORG, tokens.token_for(ORG))
    assert tokens.token_for(ORG).startswith("fake-org-token-")
    assert fake_webex.orgauth.refreshes == 2


def test_a_wrong_refresh_token_is_a_clear_permanent_error(fake_webex):
    tokens = service_app(fake_webex, manager_refresh_token="stale")
    with pytest.raises(PermanentApiError, match="WEBEX_TOKEN_MANAGER_CLIENT_ID/SECRET/REFRESH_TOKEN"):
        tokens.token_for(ORG)


@pytest.mark.parametrize("fault", [
    {"status": 503},
    {"status": 200, "body": "<html>garbage</html>"},
    {"status": 200, "body": {"token": "no access_token key"}},
    {"status": None, "delay": 3.0},  # slower than the client's 2 s timeout
])
def test_a_token_endpoint_down_slow_or_garbled_is_transient(fake_webex, fault):
    fake_webex.authorize(ORG)
    fake_webex.fail_next("POST", TOKEN_PATH, **fault)
    tokens = service_app(fake_webex)
    with pytest.raises(TransientApiError):
        tokens.token_for(ORG)
    assert tokens.token_for(ORG).startswith("fake-org-token-")  # fine once Webex is


def test_tokens_and_secrets_never_show_in_reprs_or_logs(fake_webex, caplog):
    caplog.set_level(logging.DEBUG)
    fake_webex.authorize(ORG)
    tokens = service_app(fake_webex)
    token = tokens.token_for(ORG)
    api = WebexNumbersApi(fake_webex.base_url, tokens)
    api.add_numbers(ORG, LOC, e164s(1), "NONE")
    fake_webex.deauthorize(ORG)
    with pytest.raises(ConsentMissing):
        api.add_numbers(ORG, LOC, e164s(1, start=5), "NONE")
    secrets = [token, tokens.manager_token(), fake_webex.service_app.client_secret,
               fake_webex.service_app.manager_client_secret, fake_webex.service_app.manager_refresh_token]
    shown = repr(tokens) + repr(PartnerToken("partner-secret")) + caplog.text
    shown += repr(Settings(**service_app_settings(fake_webex), webex_partner_access_token="partner-secret"))
    assert not [s for s in [*secrets, "partner-secret"] if s in shown]


def test_an_org_token_refused_mid_batch_is_replaced_once(fake_webex):
    fake_webex.authorize(ORG)
    tokens = service_app(fake_webex)
    api = WebexNumbersApi(fake_webex.base_url, tokens)
    first = tokens.token_for(ORG)
    fake_webex.orgauth.expire(first)  # Webex stopped accepting it before it expired

    assert api.add_numbers(ORG, LOC, e164s(2), "NONE").added == e164s(2)
    posts = [r for r in fake_webex.requests if r.path.endswith("/numbers")]
    assert [p.headers["Authorization"] == f"Bearer {first}" for p in posts] == [True, False]


def test_an_org_token_is_refused_for_another_org(fake_webex):
    fake_webex.authorize(ORG)
    fake_webex.authorize(OTHER)
    tokens = service_app(fake_webex)
    other_token = tokens.token_for(OTHER)
    api = WebexNumbersApi(fake_webex.base_url, PartnerToken(other_token))
    with pytest.raises(ConsentMissing, match=r"^\[403\]"):
        api.add_numbers(ORG, LOC, e164s(1), "NONE")
    assert fake_webex.add_requests == []


def test_the_settings_choose_the_source_and_never_the_bot_token(fake_webex):
    base = {"webex_access_token": "bot", "webex_api_base_url": fake_webex.base_url}
    assert token_source(Settings(**base)) is None
    assert build_numbers_api(Settings(**base)) is None  # no org credentials: no telephony calls at all
    assert token_source(Settings(**base, webex_partner_access_token="bot")) is None
    assert isinstance(token_source(Settings(**base, webex_partner_access_token="partner")), PartnerToken)
    both = Settings(**base, webex_partner_access_token="partner", **service_app_settings(fake_webex))
    source = token_source(both)
    assert isinstance(source, ServiceAppTokens) and source.checks_consent
    assert source.app_id == fake_webex.service_app.app_id
    named = Settings(**base, **service_app_settings(fake_webex), webex_service_app_id="APP")
    assert token_source(named).app_id == "APP"


def test_the_wiring_gives_the_numbers_adapter_org_tokens(fake_webex, db_url):
    settings = Settings(database_url=db_url, webex_access_token=fake_webex.bot_token,
                        webex_api_base_url=fake_webex.base_url, **service_app_settings(fake_webex))
    wiring = build_wiring(settings)
    assert isinstance(wiring.tokens, ServiceAppTokens)
    assert wiring.numbers_api.tokens is wiring.tokens and wiring.services.number_check is wiring.numbers_api
