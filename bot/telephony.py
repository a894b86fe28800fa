"""NumbersApi over HTTP: Webex Calling's numbers endpoints, called with `requests`.

The adapter owns its HTTP session, the API base URL (`WEBEX_API_BASE_URL`) and a token
source it asks for each organization's token. It does not go through the SDK's request loop,
because the SDK would sleep through a 429 while holding the sync lease; here a 429 becomes
`RateLimited` and the engine reschedules. Status mapping: 2xx added, except per-number
`errors` (in a 2xx as in a 400) refused; 429 and 423 RateLimited after Retry-After; 5xx, 408,
timeouts and connection errors transient; a 401 gets one retry with a fresh token, and a 401/403
that a fresh token does not cure is `ConsentMissing`; any other 4xx permanent.
"""
from __future__ import annotations

import logging
from typing import Iterator
from urllib.parse import quote, urljoin

import requests

from bot.http import json_object
from bot.retry import retry_after_seconds
from bot.tokens import TokenSource
from provisioning.sync.port import (
    AddResult,
    ConsentMissing,
    NumberKind,
    PermanentApiError,
    RateLimited,
    RemoteNumber,
    TransientApiError,
    Usage,
)

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 15.0
PAGE_SIZE = 1000
TRANSIENT_4XX = {408, 425}
WAIT_STATUSES = {423, 429}  # Webex asks us to come back after Retry-After
REFUSED = {401, 403}


class WebexNumbersApi:
    """Adds and lists the numbers of a customer's Webex Calling location."""

    def __init__(self, base_url: str, tokens: TokenSource, *, page_size: int = PAGE_SIZE,
                 timeout: float = 30) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.tokens = tokens
        self.page_size = page_size
        self.timeout = timeout
        self._http = requests.Session()

    def add_numbers(self, org_id: str, location_id: str, numbers: list[str], usage: Usage,
                    kind: NumberKind = "DID") -> AddResult:
        body = {"phoneNumbers": list(numbers), "numberType": kind, "numberUsageType": usage, "state": "ACTIVE"}
        path = f"telephony/config/locations/{quote(location_id, safe='')}/numbers"
        response = self._send("POST", path, org_id, params={"orgId": org_id}, json=body)
        if response.status_code < 300 or response.status_code == 400:
            refused = _refusals(response, numbers)
            if response.status_code < 300 or refused:
                return AddResult([n for n in numbers if n not in refused], refused)
        raise _error(response)

    def pstn_connection_type(self, org_id: str, location_id: str) -> str:
        path = f"telephony/pstn/locations/{quote(location_id, safe='')}/connection"
        response = self._send("GET", path, org_id, params={"orgId": org_id})
        if response.status_code >= 300:
            raise _error(response)
        kind = json_object(response).get("pstnConnectionType")
        if not isinstance(kind, str) or not kind:
            raise TransientApiError(f"Webex did not say the PSTN connection type of location {location_id}")
        return kind

    def validate_numbers(self, org_id: str, numbers: list[str], timeout: float) -> dict[str, tuple[str, str]]:
        """Webex's validateNumbers: (state, detail) per number, in either answer shape seen in the wild."""
        response = self._send("POST", "telephony/config/actions/validateNumbers/invoke", org_id,
                              params={"orgId": org_id}, json={"phoneNumbers": list(numbers)},
                              timeout=min(self.timeout, max(timeout, 0.1)))
        if response.status_code >= 300:
            raise _error(response)
        body = json_object(response)
        items, key = (body.get("numbers"), "number") if "numbers" in body else (body.get("phoneNumbers"), "phoneNumber")
        if not isinstance(items, list):
            raise TransientApiError("validateNumbers answered without a list of numbers")
        verdicts: dict[str, tuple[str, str]] = {}
        for item in items:
            if isinstance(item, dict) and isinstance(item.get(key), str) and isinstance(item.get("state"), str):
                verdicts[item[key]] = (item["state"], _detail(item.get("detail")))
        if not verdicts and numbers:
            raise TransientApiError("validateNumbers answered with no verdict we understand")
        return verdicts

    def check_access(self, org_id: str) -> None:
        """The consent check: a fresh org token that Webex's telephony API accepts (one small read).

        A token alone is not enough: after the Service App's scopes change, Webex still issues
        tokens but refuses them until the admin authorizes the app again.
        """
        forget = getattr(self.tokens, "forget", None)
        if forget is not None:
            forget(org_id)
        response = self._send("GET", "telephony/config/numbers", org_id, params={"orgId": org_id, "max": 1})
        if response.status_code >= 300:
            raise _error(response)

    def list_numbers(self, org_id: str, location_id: str) -> Iterator[RemoteNumber]:
        params = {"orgId": org_id, "locationId": location_id, "start": 0, "max": self.page_size}
        url: str | None = "telephony/config/numbers"
        while url is not None:
            response = self._send("GET", url, org_id, params=params)
            if response.status_code >= 300:
                raise _error(response)
            items = json_object(response).get("phoneNumbers") or []
            for item in items:
                if item.get("phoneNumber"):
                    yield RemoteNumber(item["phoneNumber"], str(item.get("state", "")).upper())
            if "next" in response.links:
                url, params = response.links["next"]["url"], None
            elif len(items) >= self.page_size and params is not None:
                params = {**params, "start": params["start"] + len(items)}
            else:
                url = None

    def _send(self, method: str, url: str, org_id: str, timeout: float | None = None, **kwargs) -> requests.Response:
        """One call with the org's token; a refused token is replaced once, then it is no consent."""
        for attempt in (1, 2):
            token = self.tokens.token_for(org_id)
            try:
                response = self._http.request(method, urljoin(self.base_url, url), timeout=timeout or self.timeout,
                                              headers={"Authorization": f"Bearer {token}"}, **kwargs)
            except requests.RequestException as exc:
                raise TransientApiError(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from None
            if response.status_code not in REFUSED:
                break
            self.tokens.refused(org_id, token)
            if attempt == 2 or (response.status_code == 403 and not getattr(self.tokens, "checks_consent", False)):
                detail = json_object(response).get("message") or response.reason or "refused"
                raise ConsentMissing(org_id, f"[{response.status_code}] {detail} (the organization token was refused)")
        if response.status_code in WAIT_STATUSES:
            wait = retry_after_seconds(response.headers.get("Retry-After"), default=DEFAULT_RETRY_AFTER, floor=1.0)
            raise RateLimited(wait, f"Webex asked to wait ({response.status_code}, retry after {wait:g} s)")
        return response


def _detail(value) -> str:
    """Webex's detail: a string or a list of strings."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if v)
    return str(value) if value else ""


def _refusals(response: requests.Response, numbers: list[str]) -> dict[str, str]:
    """Per-number errors of a 2xx or 400 answer, keyed by the number as we sent it."""
    sent = set(numbers)
    refused: dict[str, str] = {}
    for error in json_object(response).get("errors") or []:
        if not isinstance(error, dict) or not error.get("number"):
            continue
        number = str(error["number"])
        if number not in sent and f"+{number}" in sent:
            number = f"+{number}"
        if number in sent:
            message = str(error.get("errorMessage") or error.get("description") or "refused by Webex")
            code = error.get("errorCode")
            refused[number] = f"{message} (Webex error {code})" if code else message
    return refused


def _error(response: requests.Response) -> Exception:
    body = json_object(response)
    detail = body.get("message") or response.reason or "error"
    text = f"[{response.status_code}] {detail}"
    log.warning("Webex numbers API: %s (tracking ID %s)", text,
                body.get("trackingId") or response.headers.get("TrackingId"))
    if response.status_code >= 500 or response.status_code in TRANSIENT_4XX:
        return TransientApiError(text)
    return PermanentApiError(text)
