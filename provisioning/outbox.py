"""Messages the bot owes a space (Ready and failure notices, digests), queued for the transport.

A row is written in the same transaction as the change that causes it and sent later by the
transport (`bot/outbox.py`), once: `dedupe_key` is unique, so a notice queued twice is kept once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import OutboxMessage


def queue_message(session: Session, room_id: str, markdown: str, dedupe_key: str | None, now: datetime) -> None:
    """Add one message to the outbox (due now)."""
    session.add(OutboxMessage(room_id=room_id, markdown=markdown, dedupe_key=dedupe_key,
                              created_at=now, next_run_at=now))


def already_queued(session: Session, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None
