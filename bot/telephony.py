"""NumbersApi over HTTP: Webex Calling's numbers endpoints, called with `requests`.

The adapter owns its HTTP session, the API base URL (`WEBEX_API_BASE_URL`) and a token
source it asks for each organization's token. It does not go through the SDK's request loop,
because the SDK would sleep through a 429 while holding the sync lease; here a 429 becomes
`RateLimited` and the engine reschedules. Status mapping: 2xx added; 400 with per-number
`errors` refused; 429 RateLimited; 5xx, 408/423, timeouts and connection errors transient;
any other 4xx permanent.
"""
from __future__ import annotations

import logging
from typing import Iterator
from urllib.parse import quote, urljoin

import requests

from bot import metrics
from bot.retry import retry_after_seconds
from bot.tokens import TokenSource
from provisioning.sync.port import (
    AddResult,
    PermanentApiError,
    RateLimited,
    RemoteNumber,
    TransientApiError,
    Usage,
)

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 15.0
PAGE_SIZE = 1000
TRANSIENT_4XX = {408, 423, 425}


class WebexNumbersApi:
    """Adds and lists the numbers of a customer's Webex Calling location."""

    def __init__(self, base_url: str, tokens: TokenSource, *, page_size: int = PAGE_SIZE,
                 timeout: float = 30) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.tokens = tokens
        self.page_size = page_size
        self.timeout = timeout
        self._http = requests.Session()
        metrics.instrument_session(self._http)

    def add_numbers(self, org_id: str, location_id: str, numbers: list[str], usage: Usage) -> AddResult:
        body = {"phoneNumbers": list(numbers), "numberType": "DID", "numberUsageType": usage, "state": "ACTIVE"}
        path = f"telephony/config/locations/{quote(location_id, safe='')}/numbers"
        response = self._send("POST", path, org_id, params={"orgId": org_id}, json=body)
        if response.status_code < 300:
            return AddResult(list(numbers))
        refused = _refusals(response, numbers)
        if response.status_code == 400 and refused:
            return AddResult([n for n in numbers if n not in refused], refused)
        raise _error(response)

    def list_numbers(self, org_id: str, location_id: str) -> Iterator[RemoteNumber]:
        params = {"orgId": org_id, "locationId": location_id, "start": 0, "max": self.page_size}
        url: str | None = "telephony/config/numbers"
        while url is not None:
            response = self._send("GET", url, org_id, params=params)
            if response.status_code >= 300:
                raise _error(response)
            items = _json(response).get("phoneNumbers") or []
            for item in items:
                if item.get("phoneNumber"):
                    yield RemoteNumber(item["phoneNumber"], str(item.get("state", "")).upper())
            if "next" in response.links:
                url, params = response.links["next"]["url"], None
            elif len(items) >= self.page_size and params is not None:
                params = {**params, "start": params["start"] + len(items)}
            else:
                url = None

    def _send(self, method: str, url: str, org_id: str, **kwargs) -> requests.Response:
        token = self.tokens.token_for(org_id)
        try:
            response = self._http.request(method, urljoin(self.base_url, url), timeout=self.timeout,
                                          headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except requests.RequestException as exc:
            raise TransientApiError(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from None
        if response.status_code == 401:
            self.tokens.refused(org_id, token)
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"), default=DEFAULT_RETRY_AFTER, floor=1.0)
            raise RateLimited(wait, f"rate limited by Webex (429, retry after {wait:g} s)")
        return response


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusals(response: requests.Response, numbers: list[str]) -> dict[str, str]:
    """Per-number errors of a 400, keyed by the number as we sent it."""
    sent = set(numbers)
    refused: dict[str, str] = {}
    for error in _json(response).get("errors") or []:
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
    body = _json(response)
    detail = body.get("message") or response.reason or "error"
    text = f"[{response.status_code}] {detail}"
    log.warning("Webex numbers API: %s (tracking ID %s)", text,
                body.get("trackingId") or response.headers.get("TrackingId"))
    if response.status_code >= 500 or response.status_code in TRANSIENT_4XX:
        return TransientApiError(text)
    return PermanentApiError(text)
