"""Send what the sync engine owes spaces (Ready notices, digests): each row once.

Rows are claimed by pushing `next_run_at` past the lease with a compare-and-set UPDATE, so
two schedulers (or processes) never send the same row; `sent_at` is set right after the
post. Failures back off and stop after `max_attempts`, keeping the last error on the row.
"""
from __future__ import annotations

import logging
import random
from datetime import timedelta

from sqlalchemy import select, update

from bot.retry import describe
from bot.webex_client import WebexClient
from handlers.base import Services
from store.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


def _client(webex) -> WebexClient:
    """Accept our client (or anything with `send_markdown`) or a bare `webexpythonsdk.WebexAPI`."""
    if hasattr(webex, "send_markdown"):
        return webex
    return WebexClient(webex.access_token, webex.base_url)


def flush_outbox(services: Services, webex, *, limit: int = 100, lease_seconds: float = 120,
                 max_attempts: int = 8, retry_base_seconds: float = 30) -> int:
    """Send due unsent outbox rows; returns how many were sent."""
    client = _client(webex)
    db = services.db
    now = utcnow()
    due = (select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_run_at <= now,
                                          OutboxMessage.attempts < max_attempts)
           .order_by(OutboxMessage.id).limit(limit))
    with db.engine.connect() as conn:
        ids = list(conn.execute(due).scalars())
    sent = 0
    for row_id in ids:
        claimed = _claim(db, row_id, lease_seconds)
        if claimed is None:
            continue
        room_id, markdown, attempts = claimed
        try:
            client.send_markdown(room_id, markdown)
        except Exception as exc:
            reason = describe(exc)
            delay = retry_base_seconds * 2 ** (attempts - 1) * random.uniform(1, 1.5)
            log.warning("outbox message %s not sent (attempt %d/%d): %s", row_id, attempts,
                        max_attempts, reason)
            _mark(db, row_id, last_error=reason, next_run_at=utcnow() + timedelta(seconds=delay))
            continue
        _mark(db, row_id, sent_at=utcnow(), last_error=None)
        sent += 1
    return sent


def _claim(db, row_id: int, lease_seconds: float) -> tuple[str, str, int] | None:
    now = utcnow()
    statement = (update(OutboxMessage)
                 .where(OutboxMessage.id == row_id, OutboxMessage.sent_at.is_(None),
                        OutboxMessage.next_run_at <= now)
                 .values(next_run_at=now + timedelta(seconds=lease_seconds),
                         attempts=OutboxMessage.attempts + 1)
                 .returning(OutboxMessage.room_id, OutboxMessage.markdown, OutboxMessage.attempts))
    with db.engine.begin() as conn:
        row = conn.execute(statement).first()
    return tuple(row) if row else None


def _mark(db, row_id: int, **values) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
