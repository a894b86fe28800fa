"""Webex's own check in the preview (SPEC §5.2): numbers Webex says are not Available are invalid.

For an integrated service whose org token is at hand, a preview of at most 10,000 valid numbers
asks Webex's validateNumbers (batches of 500) within a 5 s budget, and moves numbers whose state
is not `Available` (e.g. "DN is in use") to the invalid rows with Webex's detail. Whatever goes
wrong (slow, down, no consent, an answer of an unexpected shape) the preview still succeeds and
says it was checked locally only.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioning.text import literal
from provisioning.uploads.already import to_store
from store.bulk import bulk_insert, chunks
from store.models import InvalidEntry, Service, StagedNumber, Upload

log = logging.getLogger(__name__)

LIMIT = 10_000
BATCH = 500
BUDGET_SECONDS = 5.0
AVAILABLE = "Available"
CHECKED = "checked"
LOCAL = "local"
monotonic = time.monotonic  # the budget's clock (tests replace it)


class NumberCheck(Protocol):
    def validate_numbers(self, org_id: str, numbers: list[str], timeout: float) -> dict[str, tuple[str, str]]:
        """Webex's verdict per number: (state, detail); raises on any failure or unexpected answer."""
        ...


def check_with_webex(session: Session, upload: Upload, service: Service, checker: NumberCheck | None,
                     clock: Callable[[], float] | None = None) -> str | None:
    """CHECKED, LOCAL (Webex could not be asked in time), or None when the check does not apply."""
    clock = clock or monotonic
    if checker is None or service.mode != "integrated":
        return None
    staged = session.execute(select(StagedNumber.e164, StagedNumber.row)
                             .where(*to_store(upload)).limit(LIMIT + 1)).all()
    if not staged or len(staged) > LIMIT:
        return None if not staged else LOCAL
    rows = dict(staged)
    deadline = clock() + BUDGET_SECONDS
    refused: dict[str, str] = {}
    for batch in chunks(sorted(rows), BATCH):
        remaining = deadline - clock()
        if remaining <= 0:
            log.info("validateNumbers: out of time, preview %s checked locally only", upload.id)
            return LOCAL
        try:
            verdicts = checker.validate_numbers(service.org_id, batch, timeout=remaining)
        except Exception as exc:  # slow, down, no consent, garbage: never fail the preview
            log.warning("validateNumbers for preview %s failed: %s", upload.id, exc)
            return LOCAL
        for number in batch:
            state, detail = verdicts.get(number, (AVAILABLE, ""))
            if state != AVAILABLE:
                refused[number] = f"Webex says {state}" + (f": {literal(detail, 200)}" if detail else "")
    if refused:
        bulk_insert(session, InvalidEntry.__table__, ("upload_id", "row", "value", "reason"),
                    [(upload.id, rows[n], n, reason) for n, reason in refused.items()])
        for chunk in chunks(sorted(refused), 1000):
            session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id,
                                                       StagedNumber.e164.in_(chunk)))
    return CHECKED
