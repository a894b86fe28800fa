"""Request recording and fault injection, applied to every call before it reaches a route.

Tests script Webex misbehaviour (429 with Retry-After, 5xx, slow answers) with
`fail_next(...)`, then check what the code under test sent through `requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Request, Response

from .responses import error_response

DEFAULT_MESSAGES = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake received: path without the host, query as a flat dict, parsed JSON body."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int | None
    times: int
    headers: dict[str, str]
    body: Any
    delay: float

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.path.search(path))


class Faults:
    """The list of recorded requests plus the queue of scripted failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0,
    ) -> None:
        """Answer the next `times` matching calls with `status` after `delay` seconds.

        `method` "*" matches any method; `path_regex` is searched in the path (e.g.
        "/v1/messages$"). `status=None` with a `delay` makes a slow but normal answer.
        A 429 without a Retry-After header gets "Retry-After: 1".
        """
        headers = dict(headers or {})
        if status == 429:
            headers.setdefault("Retry-After", "1")
        fault = Fault(method.upper(), re.compile(path_regex), status, times, headers, body, delay)
        with self.lock:
            self._faults.append(fault)

    def record(self, request: Request) -> None:
        form, files = {}, {}
        if request.mimetype == "multipart/form-data":
            form = dict(request.form.items())
            files = {k: (f.filename or "", f.read()) for k, f in request.files.items()}
            for storage in request.files.values():
                storage.stream.seek(0)
        elif request.mimetype == "application/x-www-form-urlencoded":  # the OAuth token endpoint
            form = dict(request.form.items())
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.args.items()),
            json=request.get_json(silent=True) if request.is_json else None,
            headers=dict(request.headers.items()),
            form=form,
            files=files,
        )
        with self.lock:
            self.requests.append(entry)

    def intercept(self, method: str, path: str) -> Response | None:
        """Apply the first matching fault: sleep, then return its response (or None)."""
        with self.lock:
            fault = next((f for f in self._faults if f.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status is None:
            return None
        if fault.body is None:
            message = DEFAULT_MESSAGES.get(fault.status, "Injected failure")
            return error_response(fault.status, message, headers=fault.headers)
        if isinstance(fault.body, (dict, list)):
            payload, mimetype = json.dumps(fault.body), "application/json"
        else:
            payload, mimetype = fault.body, "text/plain"
        response = Response(payload, status=fault.status, mimetype=mimetype)
        response.headers.update(fault.headers)
        return response
