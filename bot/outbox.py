"""Send what the domain owes spaces (Ready notices, digests): each outbox row once.

Rows are claimed with a lease (`store.leases`), so two schedulers (or processes) never send
the same row; `sent_at` is set right after the post. Failures back off and stop after
`max_attempts`, keeping the last error on the row.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from bot.retry import describe
from bot.webex_client import WebexClient
from provisioning.backoff import Backoff
from provisioning.services import Services
from store import leases
from store.leases import LeaseLost
from store.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

OUTBOX = leases.WorkQueue(OutboxMessage, OutboxMessage.sent_at.is_(None), (OutboxMessage.id,))


def flush_outbox(services: Services, webex: WebexClient, *, limit: int = 100, lease_seconds: float = 120,
                 max_attempts: int = 8, retry_base_seconds: float = 30, worker: str | None = None) -> int:
    """Send due unsent outbox rows (at most `limit`); returns how many were sent."""
    db = services.db
    worker = worker or leases.worker_id("outbox")
    backoff = Backoff(base=retry_base_seconds, cap=6 * 3600)
    sent = 0
    for _ in range(limit):
        with db.engine.begin() as conn:
            claimed = leases.claim(conn, OUTBOX, worker, utcnow(), timedelta(seconds=lease_seconds),
                                   where=(OutboxMessage.attempts < max_attempts,),
                                   returning=(OutboxMessage.room_id, OutboxMessage.markdown, OutboxMessage.attempts),
                                   values={"attempts": OutboxMessage.attempts + 1})
        if not claimed:
            break
        row = claimed[0]
        try:
            webex.send_markdown(row.room_id, row.markdown)
        except Exception as exc:
            reason = describe(exc)
            log.warning("outbox message %s not sent (attempt %d/%d): %s", row.id, row.attempts, max_attempts, reason)
            _release(db, row.id, worker, last_error=reason,
                     next_run_at=utcnow() + timedelta(seconds=backoff.delay(row.attempts)))
            continue
        _release(db, row.id, worker, sent_at=utcnow(), last_error=None)
        sent += 1
    return sent


def _release(db, row_id: int, worker: str, **values) -> None:
    try:
        with db.engine.begin() as conn:
            leases.release(conn, OUTBOX, row_id, worker, **values)
    except LeaseLost:
        log.warning("outbox message %s: lease lost before its outcome was written", row_id)
