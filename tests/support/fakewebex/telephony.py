"""Webex Calling number inventory of customer organizations (SPEC §5).

`POST /v1/telephony/config/locations/{locationId}/numbers?orgId=` answers 201 with an empty
body (the documented response has no properties), or 400 with a per-number `errors` list when
some numbers are refused; the others are added all the same (`partial_status` 201 makes the
refusals come in a 2xx, as seen in the wild). `GET /v1/telephony/config/numbers` pages with
`start`/`max` and a `Link: rel="next"` header. `GET /v1/telephony/pstn/locations/{id}/connection`
says the location's `pstnConnectionType`; `POST .../actions/validateNumbers/invoke` says whether
each number is Available in the org.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from flask import Flask, Response, request

from .responses import error_response, int_arg, json_response, next_link
from .state import WebexError

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
NUMBER_TYPES = {"DID", "TOLLFREE", "MOBILE"}
USAGE_TYPES = {"NONE", "SERVICE"}
STATES = {"ACTIVE", "INACTIVE"}
CODE_EXISTS = 9677
CODE_INVALID = 9676
CODE_REFUSED = 9678
PSTN_NAMES = {"LOCAL_GATEWAY": "Premises-based PSTN", "NON_INTEGRATED_CCP": "Non-integrated CCP",
              "INTEGRATED_CCP": "Integrated CCP", "CISCO_PSTN": "Cisco Calling Plans"}
MAX_VALIDATE = 500


@dataclass(frozen=True)
class AddRequest:
    """One add call that reached the fake (fault-injected calls are only in `fake.requests`)."""

    org_id: str
    location_id: str
    phone_numbers: list[str]
    number_type: str | None
    number_usage_type: str | None
    state: str | None


class Telephony:
    """Numbers per (org, location), as Control Hub would show them."""

    def __init__(self, default_org: str, lock: threading.RLock) -> None:
        self.default_org = default_org
        self.lock = lock
        self.activate_on_add = True
        self.partial_status = 400
        self.validate_shape = "numbers"  # or "phoneNumbers": both answer shapes are seen in the wild
        self._pstn: dict[tuple[str, str], str] = {}
        self.add_requests: list[AddRequest] = []
        self._names: dict[tuple[str, str], str] = {}
        self._numbers: dict[tuple[str, str], dict[str, dict]] = {}
        self._refusals: dict[str, str] = {}

    def add_location(self, org: str, location: str, name: str | None = None) -> None:
        with self.lock:
            self._names[(org, location)] = name or location
            self._numbers.setdefault((org, location), {})

    def add_live_numbers(
        self, org: str, location: str, numbers: list[str], state: str = "ACTIVE"
    ) -> None:
        """The customer adding numbers in Control Hub (no API call)."""
        with self.lock:
            for e164 in numbers:
                self._put(org, location, e164, state, "DID", "NONE")

    def set_pstn(self, org: str, location: str, connection_type: str) -> None:
        with self.lock:
            self._pstn[(org, location)] = connection_type

    def pstn(self, org: str, location: str) -> str:
        with self.lock:
            return self._pstn.get((org, location), "LOCAL_GATEWAY")

    def validate(self, org: str, numbers: list[str]) -> dict:
        """validateNumbers: Available, or Duplicate with Webex's detail, per number."""
        rows = []
        with self.lock:
            for e164 in numbers:
                if not E164.match(e164):
                    rows.append((e164, "Invalid", "Invalid phone number format."))
                elif e164 in self._refusals:
                    rows.append((e164, "Unavailable", self._refusals[e164]))
                elif self._org_has(org, e164):
                    rows.append((e164, "Duplicate", "DN is in use"))
                else:
                    rows.append((e164, "Available", None))
        key, number_key = ("numbers", "number") if self.validate_shape == "numbers" else ("phoneNumbers", "phoneNumber")
        items = [{number_key: n, "state": st, "tollFreeNumber": False, **({"detail": [d]} if d else {})}
                 for n, st, d in rows]
        return {"status": "OK" if all(r[1] == "Available" for r in rows) else "ERRORS", key: items}

    def numbers_of(self, org: str, location: str) -> dict[str, str]:
        with self.lock:
            return {n: r["state"] for n, r in self._numbers.get((org, location), {}).items()}

    def refuse_numbers(self, refusals: dict[str, str]) -> None:
        """Make future add calls refuse these numbers with the given message."""
        with self.lock:
            self._refusals.update(refusals)

    def activate(self, org: str, location: str, numbers: list[str] | None = None) -> None:
        with self.lock:
            records = self._numbers.get((org, location), {})
            for e164 in records if numbers is None else numbers:
                records[e164]["state"] = "ACTIVE"

    def _put(self, org: str, location: str, e164: str, state: str, kind: str, usage: str) -> None:
        self.add_location(org, location, self._names.get((org, location)))
        self._numbers[(org, location)][e164] = {"state": state, "type": kind, "usage": usage}

    def _org_has(self, org: str, e164: str) -> bool:
        return any(e164 in nums for (o, _), nums in self._numbers.items() if o == org)

    def add(self, org: str, location: str, body: dict) -> list[dict]:
        """Add what can be added; return the per-number errors for the rest."""
        numbers = body.get("phoneNumbers")
        if not isinstance(numbers, list) or not numbers or not all(
            isinstance(n, str) for n in numbers
        ):
            raise WebexError(400, "phoneNumbers must be a non-empty list of strings.")
        kind, usage, state = body.get("numberType"), body.get("numberUsageType"), body.get("state")
        for value, allowed, name in (
            (kind, NUMBER_TYPES, "numberType"),
            (usage, USAGE_TYPES, "numberUsageType"),
            (state, STATES, "state"),
        ):
            if value is not None and value not in allowed:
                raise WebexError(400, f"Invalid {name}: {value!r}.")
        errors = []
        with self.lock:
            self.add_requests.append(AddRequest(org, location, list(numbers), kind, usage, state))
            for e164 in numbers:
                problem = self._problem(org, e164)
                if problem:
                    code, text = problem
                    errors.append({"number": e164, "errorCode": code, "errorMessage": text})
                    continue
                live = (state or "ACTIVE") if self.activate_on_add else "INACTIVE"
                self._put(org, location, e164, live, kind or "DID", usage or "NONE")
        return errors

    def _problem(self, org: str, e164: str) -> tuple[int, str] | None:
        if not E164.match(e164):
            return CODE_INVALID, f"Invalid phone number {e164}; it must be in E.164 format."
        if e164 in self._refusals:
            return CODE_REFUSED, self._refusals[e164]
        if self._org_has(org, e164):
            return CODE_EXISTS, f"Phone number {e164} already exists in the organization."
        return None

    def listing(self, org: str, location: str | None) -> list[dict]:
        with self.lock:
            rows = []
            for (o, loc), numbers in self._numbers.items():
                if o != org or (location is not None and loc != location):
                    continue
                for e164, record in numbers.items():
                    rows.append(self._row(e164, record, loc, self._names[(o, loc)]))
        return sorted(rows, key=lambda r: r["phoneNumber"])

    @staticmethod
    def _row(e164: str, record: dict, location: str, name: str) -> dict:
        return {
            "phoneNumber": e164,
            "state": record["state"],
            "phoneNumberType": "PRIMARY",
            "mainNumber": False,
            "numberType": record["type"],
            "includedTelephonyTypes": "PSTN_NUMBER",
            "tollFreeNumber": record["type"] == "TOLLFREE",
            "isServiceNumber": record["usage"] == "SERVICE",
            "location": {"id": location, "name": name},
        }


def register(app: Flask, telephony: Telephony) -> None:
    """Mount the two telephony endpoints on the fake's Flask app."""

    @app.post("/v1/telephony/config/locations/<location_id>/numbers")
    def add_numbers(location_id: str) -> Response:
        org = request.args.get("orgId") or telephony.default_org
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise WebexError(400, "Request body must be a JSON object.")
        errors = telephony.add(org, location_id, body)
        if errors and telephony.partial_status >= 300:
            return error_response(telephony.partial_status, "Some phone numbers could not be added.", errors=errors)
        if errors:
            return json_response({"errors": errors}, status=telephony.partial_status)
        return Response(status=201)

    @app.get("/v1/telephony/pstn/locations/<location_id>/connection")
    def pstn_connection(location_id: str) -> Response:
        org = request.args.get("orgId") or telephony.default_org
        kind = telephony.pstn(org, location_id)
        return json_response({"id": f"PSTN-{location_id}", "displayName": PSTN_NAMES.get(kind, kind),
                              "pstnServices": ["GEOGRAPHIC_NUMBERS"], "pstnConnectionType": kind})

    @app.post("/v1/telephony/config/actions/validateNumbers/invoke")
    def validate_numbers() -> Response:
        org = request.args.get("orgId") or telephony.default_org
        body = request.get_json(silent=True)
        numbers = body.get("phoneNumbers") if isinstance(body, dict) else None
        if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
            raise WebexError(400, "phoneNumbers must be a non-empty list of strings.")
        if len(numbers) > MAX_VALIDATE:
            raise WebexError(400, f"At most {MAX_VALIDATE} phone numbers can be validated at once.")
        return json_response(telephony.validate(org, numbers))

    @app.get("/v1/telephony/config/numbers")
    def list_numbers() -> Response:
        org = request.args.get("orgId") or telephony.default_org
        rows = telephony.listing(org, request.args.get("locationId"))
        wanted = request.args.get("phoneNumber")
        if wanted:
            rows = [r for r in rows if wanted in r["phoneNumber"]]
        state = request.args.get("state")
        if state:
            rows = [r for r in rows if r["state"] == state]
        start, size = int_arg("start", 0), int_arg("max", 2000, minimum=1)
        page = rows[start : start + size]
        more = start + size < len(rows)
        headers = next_link(start=start + size, max=size) if more else None
        return json_response({"phoneNumbers": page}, headers=headers)
