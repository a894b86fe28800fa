"""NumbersApi over HTTP: Webex Calling's numbers endpoints with the bot's SDK session.

Base URL, token and User-Agent come from the `webexpythonsdk.WebexAPI` session, so this
talks to the same Webex (or fake) as the rest of the bot. Requests go through `requests`
directly rather than the SDK's request loop, because the SDK would sleep through a 429
while holding the sync lease; here a 429 becomes `RateLimited` and the engine reschedules.
Status mapping: 2xx added; 400 with per-number `errors` refused; 429 RateLimited; 5xx,
408/423, timeouts and connection errors transient; any other 4xx permanent.
"""
from __future__ import annotations

import logging
from typing import Iterator
from urllib.parse import quote

import requests
from webexpythonsdk import WebexAPI

from provisioning.numbers_api import (
    AddResult, PermanentApiError, RateLimited, RemoteNumber, TransientApiError, Usage,
)

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 15.0
PAGE_SIZE = 1000
TRANSIENT_4XX = {408, 423, 425}


class WebexNumbersApi:
    """Adds and lists the numbers of a customer's Webex Calling location."""

    def __init__(self, webex: WebexAPI, *, page_size: int = PAGE_SIZE, timeout: float | None = None) -> None:
        sdk = getattr(webex, "sdk", webex)  # our WebexClient wraps the SDK object
        self._rest = sdk._session  # the SDK's RestSession: base URL, auth and UA headers
        self._http = requests.Session()
        self.page_size = page_size
        self.timeout = timeout or self._rest.single_request_timeout or 30

    def add_numbers(self, org_id: str, location_id: str, numbers: list[str], usage: Usage) -> AddResult:
        body = {"phoneNumbers": list(numbers), "numberType": "DID", "numberUsageType": usage, "state": "ACTIVE"}
        path = f"telephony/config/locations/{quote(location_id, safe='')}/numbers"
        response = self._send("POST", path, params={"orgId": org_id}, json=body)
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
            response = self._send("GET", url, params=params)
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

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self._http.request(method, self._rest.abs_url(url), headers=self._rest.headers,
                                          timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TransientApiError(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from None
        if response.status_code == 429:
            wait = _retry_after(response)
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


def _retry_after(response: requests.Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER)))
    except ValueError:
        return DEFAULT_RETRY_AFTER
