"""Who may call what in the fake: token kinds, the Service App token endpoints, consent.

Webex's telephony APIs need an admin token with telephony scopes: a bot token is refused
(403), and a token issued for one organization is refused for another. Tokens come from
`POST /v1/access_token` (the token manager integration's refresh_token grant, form fields)
and `POST /v1/applications/{applicationId}/token` (the manager's token as Bearer, JSON
`clientId`, `clientSecret`, `targetOrgId`): 403 until the org's admin authorized the app.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field

from flask import Flask, Response, request

from .responses import error_response, json_response
from .state import WebexError

TOKEN_SECONDS = 3600
REFRESH_SECONDS = 7776000
NOT_AUTHORIZED = "The Service App has not been authorized by a full admin of the target organization."
NOT_ALLOWED = ("The token is not authorized for this resource: a full administrator token with telephony scopes "
               "is required.")
UNAUTHORIZED = "The request requires a valid access token set in the Authorization request header."
WRONG_ORG = "The token is not authorized for the target organization."


@dataclass
class ServiceApp:
    client_id: str = "C-fake-service-app"
    client_secret: str = "fake-service-app-secret"
    manager_client_id: str = "C-fake-token-manager"
    manager_client_secret: str = "fake-token-manager-secret"
    manager_refresh_token: str = "fake-token-manager-refresh"

    @property
    def app_id(self) -> str:
        raw = f"ciscospark://us/APPLICATION/{self.client_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class OrgAuth:
    """Token kinds: 'bot', 'manager', 'org' (one org) and 'partner' (every org)."""

    lock: threading.RLock
    app: ServiceApp = field(default_factory=ServiceApp)
    kinds: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    authorized: set[str] = field(default_factory=set)
    # Orgs whose admin authorized an older version of the app: tokens are issued, but without
    # the telephony scopes the app asks for now, so telephony APIs refuse them.
    outdated: set[str] = field(default_factory=set)
    token_requests: list[str] = field(default_factory=list)  # targetOrgId of each org-token request
    refreshes: int = 0
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, token: str, kind: str, org: str | None = None) -> None:
        with self.lock:
            self.kinds[token] = (kind, org)

    def kind(self, token: str) -> tuple[str, str | None] | None:
        with self.lock:
            return self.kinds.get(token)

    def authorize(self, org: str) -> None:
        """The org's full admin authorizes the Service App in Control Hub."""
        with self.lock:
            self.authorized.add(org)

    def deauthorize(self, org: str) -> None:
        """The admin withdraws it: tokens issued for the org stop working at once."""
        with self.lock:
            self.authorized.discard(org)
            for token, (kind, owner) in list(self.kinds.items()):
                if kind == "org" and owner == org:
                    del self.kinds[token]

    def expire(self, token: str) -> None:
        with self.lock:
            self.kinds.pop(token, None)

    def check_admin(self, token: str, org: str) -> Response | None:
        """None when `token` may call telephony APIs of `org`, else the answer Webex gives."""
        found = self.kind(token)
        if found is None:
            return error_response(401, UNAUTHORIZED)
        kind, owner = found
        if kind == "partner":
            return None
        if kind != "org":
            return error_response(403, NOT_ALLOWED)
        if owner != org or org not in self.authorized:
            return error_response(403, WRONG_ORG)
        if org in self.outdated:
            return error_response(403, NOT_ALLOWED)
        return None

    def issue(self, kind: str, org: str | None = None) -> str:
        with self.lock:
            token = f"fake-{kind}-token-{next(self._seq)}"
            self.kinds[token] = (kind, org)
            return token


def register(app: Flask, auth: OrgAuth) -> None:
    """Mount the two token endpoints."""

    @app.post("/v1/access_token")
    def access_token() -> Response:
        form = request.form
        if form.get("grant_type") != "refresh_token":
            raise WebexError(400, "unsupported_grant_type")
        given = (form.get("client_id"), form.get("client_secret"), form.get("refresh_token"))
        wanted = (auth.app.manager_client_id, auth.app.manager_client_secret, auth.app.manager_refresh_token)
        if given != wanted:
            return json_response({"error": "invalid_grant", "error_description": "Bad refresh token."}, status=400)
        with auth.lock:
            auth.refreshes += 1
        return json_response({"access_token": auth.issue("manager"), "expires_in": TOKEN_SECONDS,
                              "refresh_token": auth.app.manager_refresh_token,
                              "refresh_token_expires_in": REFRESH_SECONDS})

    @app.post("/v1/applications/<app_id>/token")
    def service_app_token(app_id: str) -> Response:
        found = auth.kind(request.headers.get("Authorization", "").partition(" ")[2])
        if found is None or found[0] != "manager":
            return error_response(401, UNAUTHORIZED)
        if app_id != auth.app.app_id:
            raise WebexError(404, "Service App not found.")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body.get(k)
                                                 for k in ("clientId", "clientSecret", "targetOrgId")):
            raise WebexError(400, "clientId, clientSecret and targetOrgId are required.")
        if (body["clientId"], body["clientSecret"]) != (auth.app.client_id, auth.app.client_secret):
            raise WebexError(400, "Invalid client credentials.")
        org = body["targetOrgId"]
        with auth.lock:
            auth.token_requests.append(org)
            consented = org in auth.authorized
        if not consented:
            raise WebexError(403, NOT_AUTHORIZED)
        return json_response({"access_token": auth.issue("org", org), "expires_in": TOKEN_SECONDS,
                              "refresh_token": auth.issue("org-refresh", org),
                              "refresh_token_expires_in": REFRESH_SECONDS, "token_type": "Bearer"})
