"""The port to Webex Calling's number inventory, as the sync engine needs it (SPEC §5).

The engine only sees this Protocol and these exceptions; the HTTP adapter lives in
`bot/telephony.py` and tests use a scripted fake. Keeping the error classes here lets the
domain decide what to retry, what to wait for and what to give up on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Literal, Protocol

Usage = Literal["SERVICE", "NONE"]
NumberKind = Literal["DID", "TOLLFREE"]
ACTIVE = "ACTIVE"

# Webex says this when a number is already in the organization; after a crash between a
# 2xx and our commit, re-posting the same batch gets exactly this answer for our numbers.
_ALREADY_EXISTS = re.compile(r"\balready\s+(exists?|added|present)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AddResult:
    """What one add call did: numbers accepted, and numbers refused with Webex's message."""

    added: list[str]
    refused: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteNumber:
    """A number as Webex lists it in a location; `state` is ACTIVE or INACTIVE."""

    e164: str
    state: str


class NumbersApiError(Exception):
    """Any failure talking to the numbers API."""


class RateLimited(NumbersApiError):
    """HTTP 429: come back after `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"rate limited by Webex (retry after {retry_after:g} s)")
        self.retry_after = retry_after


class TransientApiError(NumbersApiError):
    """5xx, timeouts, dropped connections: worth retrying with backoff."""


class PermanentApiError(NumbersApiError):
    """4xx other than 429 and per-number refusals: retrying will not help."""


class ConsentMissing(NumbersApiError):
    """No organization token for this org: its admin has not authorized the Service App, or
    withdrew it (token endpoint 403, or a 401/403 a fresh token does not cure). Sync waits."""

    def __init__(self, org_id: str, reason: str) -> None:
        super().__init__(reason)
        self.org_id = org_id


class NumbersApi(Protocol):
    """Webex Calling numbers of one customer location."""

    def add_numbers(
        self, org_id: str, location_id: str, numbers: list[str], usage: Usage, kind: NumberKind = "DID"
    ) -> AddResult:
        """Add `numbers` (one batch, all of one number type) to the location; raise the errors above."""
        ...

    def pstn_connection_type(self, org_id: str, location_id: str) -> str:
        """The location's `pstnConnectionType` (LOCAL_GATEWAY, NON_INTEGRATED_CCP, INTEGRATED_CCP, ...)."""
        ...

    def list_numbers(self, org_id: str, location_id: str) -> Iterator[RemoteNumber]:
        """Every number of the location, all pages."""
        ...


def usage_for(number_type: str) -> Usage:
    """`numberUsageType`: SERVICE for contact-center and service numbers, NONE for user numbers."""
    return "SERVICE" if number_type in ("contact-center", "service") else "NONE"


def is_already_exists(message: str) -> bool:
    """Whether a refusal only says the number is already there (maybe added by us)."""
    return bool(_ALREADY_EXISTS.search(message or ""))
