"""Where the numbers adapter gets the access token for a customer's organization (SPEC §5.1).

The adapter asks for a token per call and per organization (`token_for`), and says when Webex
refused one (`refused`), so a source can refresh or fetch tokens without the adapter knowing how.
Two sources: a Service App (an org token per customer, obtainable only once the customer's admin
has authorized the app: that is the consent) and a partner full admin's token (one for all).
Tokens live in process memory only and never appear in logs or reprs.
"""
from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urljoin

import requests

from bot.http import json_object
from provisioning.sync.port import ConsentMissing, PermanentApiError, TransientApiError

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # seconds before expiry a token is replaced
DEFAULT_EXPIRES_IN = 3600.0
NOT_AUTHORIZED = "the organization's admin has not authorized the Service App in Control Hub (no consent yet)"


class TokenSource(Protocol):
    def token_for(self, org_id: str) -> str:
        """A bearer token valid for calls into `org_id`; raises ConsentMissing when there is none."""
        ...

    def refused(self, org_id: str, token: str) -> None:
        """Webex answered 401 to `token`: do not hand it out again."""
        ...


class StaticToken:
    """One token for every organization (a partner full admin acting with `orgId=`)."""

    checks_consent = False

    def __init__(self, token: str) -> None:
        self._token = token

    def token_for(self, org_id: str) -> str:
        return self._token

    def refused(self, org_id: str, token: str) -> None:
        """Nothing to refresh: the next call gets the same answer."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class PartnerToken(StaticToken):
    """WEBEX_PARTNER_ACCESS_TOKEN: consent then comes from the inventory, not from Webex."""


@dataclass
class _Held:
    token: str
    renew_at: float  # monotonic seconds

    def __repr__(self) -> str:
        return "_Held(***)"


def application_id(client_id: str) -> str:
    """The Service App's id when WEBEX_SERVICE_APP_ID is not set: unpadded base64url of its URI."""
    raw = f"ciscospark://us/APPLICATION/{client_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class ServiceAppTokens:
    """Organization tokens of a Service App, fetched with the token manager integration's token.

    `POST {base}access_token` (refresh_token grant) keeps the token manager's access token fresh;
    `POST {base}applications/{applicationId}/token` gives one org's token, or 403 while the
    org's admin has not authorized the app. Both are cached until shortly before they expire.
    """

    checks_consent = True

    def __init__(self, base_url: str, *, client_id: str, client_secret: str, manager_client_id: str,
                 manager_client_secret: str, manager_refresh_token: str, app_id: str = "",
                 timeout: float = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.app_id = app_id or application_id(client_id)
        self._client = (client_id, client_secret)
        self._manager = (manager_client_id, manager_client_secret)
        self._manager_refresh = manager_refresh_token
        self._manager_token: _Held | None = None
        self._orgs: dict[str, _Held] = {}
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"ServiceAppTokens(app_id={self.app_id!r}, secrets=***)"

    # TokenSource --------------------------------------------------------------------------------
    def token_for(self, org_id: str) -> str:
        with self._lock:
            held = self._orgs.get(org_id)
            if held is not None and held.renew_at > self._clock():
                return held.token
            held = self._fetch_org_token(org_id)
            self._orgs[org_id] = held
            return held.token

    def refused(self, org_id: str, token: str) -> None:
        with self._lock:
            held = self._orgs.get(org_id)
            if held is not None and held.token == token:
                del self._orgs[org_id]

    def forget(self, org_id: str) -> None:
        """Drop the org's cached token: consent was withdrawn (`deauthorized`), or it is being checked."""
        with self._lock:
            self._orgs.pop(org_id, None)

    def manager_token(self) -> str:
        """The token manager integration's access token (also creates the serviceApp webhooks)."""
        with self._lock:
            return self._manager_access()

    # token endpoints ----------------------------------------------------------------------------
    def _fetch_org_token(self, org_id: str) -> _Held:
        for attempt in (1, 2):
            manager = self._manager_access()
            body = {"clientId": self._client[0], "clientSecret": self._client[1], "targetOrgId": org_id}
            response = self._post(f"applications/{quote(self.app_id, safe='')}/token", json=body,
                                  headers={"Authorization": f"Bearer {manager}"})
            if response.status_code == 401 and attempt == 1:
                self._manager_token = None  # revoked or expired early: refresh it once
                continue
            if response.status_code == 403:
                raise ConsentMissing(org_id, NOT_AUTHORIZED)
            return self._held(response, "organization token")
        raise PermanentApiError("the token manager's fresh access token was refused (401): "
                                "check WEBEX_TOKEN_MANAGER_CLIENT_ID/SECRET/REFRESH_TOKEN")

    def _manager_access(self) -> str:
        held = self._manager_token
        if held is not None and held.renew_at > self._clock():
            return held.token
        form = {"grant_type": "refresh_token", "client_id": self._manager[0], "client_secret": self._manager[1],
                "refresh_token": self._manager_refresh}
        response = self._post("access_token", data=form)
        if response.status_code in (400, 401, 403):
            raise PermanentApiError(f"the token manager's refresh token was refused ({response.status_code}): "
                                    "check WEBEX_TOKEN_MANAGER_CLIENT_ID/SECRET/REFRESH_TOKEN")
        self._manager_token = self._held(response, "token manager access token")
        body = json_object(response)
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            self._manager_refresh = body["refresh_token"]
        return self._manager_token.token

    def _post(self, path: str, **kwargs) -> requests.Response:
        try:
            return self._http.post(urljoin(self.base_url, path), timeout=self._timeout, **kwargs)
        except requests.RequestException as exc:
            raise TransientApiError(f"Webex token endpoint {path.split('/')[0]}: {type(exc).__name__}") from None

    def _held(self, response: requests.Response, what: str) -> _Held:
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientApiError(f"Webex could not issue the {what} ({response.status_code})")
        if response.status_code >= 300:
            raise PermanentApiError(f"Webex refused the {what} ({response.status_code})")
        body = json_object(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise TransientApiError(f"Webex answered the {what} request without an access_token")
        expires_in = body.get("expires_in")
        seconds = float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 else DEFAULT_EXPIRES_IN
        return _Held(token, self._clock() + max(seconds - REFRESH_MARGIN, seconds / 2))


def token_source(settings) -> TokenSource | None:
    """The organization token source the settings describe, or None (no telephony calls at all).

    The bot token is for messaging only: it is never used here, and a partner token equal to it
    is refused rather than sent to a telephony endpoint.
    """
    if settings.service_app_configured:
        return ServiceAppTokens(
            settings.webex_api_base_url, client_id=settings.webex_service_app_client_id,
            client_secret=settings.webex_service_app_client_secret, app_id=settings.webex_service_app_id,
            manager_client_id=settings.webex_token_manager_client_id,
            manager_client_secret=settings.webex_token_manager_client_secret,
            manager_refresh_token=settings.webex_token_manager_refresh_token)
    partner = settings.webex_partner_access_token
    if partner and partner != settings.webex_access_token:
        return PartnerToken(partner)
    if partner:
        log.error("WEBEX_PARTNER_ACCESS_TOKEN is the bot token: bot tokens cannot call telephony APIs, "
                  "so numbers are not synced")
    return None
