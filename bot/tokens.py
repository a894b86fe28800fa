"""Where the numbers adapter gets the access token for a customer's organization.

The adapter asks for a token per call and per organization (`token_for`), and says when Webex
refused one (`refused`), so a source can refresh or fetch tokens without the adapter knowing how.
"""
from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    def token_for(self, org_id: str) -> str:
        """A bearer token valid for calls into `org_id`."""
        ...

    def refused(self, org_id: str, token: str) -> None:
        """Webex answered 401 to `token`: do not hand it out again."""
        ...


class StaticToken:
    """One token for every organization (a partner full admin acting with `orgId=`)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token_for(self, org_id: str) -> str:
        return self._token

    def refused(self, org_id: str, token: str) -> None:
        """Nothing to refresh: the next call gets the same answer."""

    def __repr__(self) -> str:
        return "StaticToken(***)"
