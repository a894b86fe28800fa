"""Response helpers shared by the fake's routes: Webex-style errors and RFC 5988 paging."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from .state import WebexError


def tracking_id() -> str:
    return f"FAKEWEBEX_{uuid.uuid4()}"


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    response.headers["TrackingId"] = tracking_id()
    for name, value in (headers or {}).items():
        response.headers[name] = str(value)
    return response


def error_response(
    status: int, message: str, headers: dict | None = None, **extra: Any
) -> Response:
    """The JSON body Webex returns on errors: message, errors[], trackingId."""
    body = {"message": message, "errors": [{"description": message}], "trackingId": tracking_id()}
    body.update(extra)
    return json_response(body, status, headers)


def int_arg(name: str, default: int, minimum: int = 0) -> int:
    """A non-negative integer query parameter; a bad value is the caller's 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WebexError(400, f"Invalid value for '{name}': {raw!r}") from None
    if value < minimum:
        raise WebexError(400, f"'{name}' must be at least {minimum}")
    return value


def next_link(**changes: Any) -> dict[str, str]:
    """A `Link: <...>; rel="next"` header for this request's URL with `changes` applied."""
    params = {k: v for k, v in request.args.items()}
    params.update({k: str(v) for k, v in changes.items()})
    return {"Link": f'<{request.base_url}?{urlencode(params)}>; rel="next"'}
