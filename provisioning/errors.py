"""Errors the operator can act on, as opposed to bugs; and telling a database outage from a bug."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError


class UserError(Exception):
    """A known business reason an action cannot go ahead; its text is shown to the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def database_outage(exc: BaseException) -> str | None:
    """The driver's reason when `exc` says the database is down, restarting or locked, else None.

    Such a failure rolled the transaction back, so the operator can simply try again.
    """
    if isinstance(exc, OperationalError):
        return str(exc.orig).strip() if exc.orig is not None else type(exc).__name__
    return None
