"""The audit log: who did what, when and where (SPEC §7), refusals included."""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import AuditEntry

MAX_DETAIL = 4000


def audit(session: Session, actor: str, action: str, detail: str = "", *, tenant_id: int | None = None,
          room_id: str | None = None) -> None:
    """Record one action in the caller's transaction (so it is kept exactly when the action is)."""
    session.add(AuditEntry(actor=actor, action=action, detail=detail[:MAX_DETAIL], tenant_id=tenant_id,
                           room_id=room_id))
