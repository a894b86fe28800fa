"""Number history: a stretch opens when the poll first sees a number ACTIVE, and closes when the
number is released (`releases.done`). Written set-based, in the transaction that marks numbers live.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.orm import Session, aliased

from store.models import Number, NumberHistory, Service, Upload

COLUMNS = ("e164", "tenant_id", "customer_id", "service_id", "upload_id", "number_type", "cac", "service_info",
           "live_since")


def open_stretches(session: Session, numbers: list[str], now: datetime) -> None:
    """Open a stretch for each of `numbers` that just went live at `now` and has none open."""
    if not numbers:
        return
    open_row = aliased(NumberHistory)
    source = (
        select(Number.e164, Service.tenant_id, Service.customer_id, Number.service_id, Number.upload_id,
               Number.number_type, Upload.cac, Upload.service_info, Number.live_at)
        .join(Service, Service.id == Number.service_id)
        .join(Upload, Upload.id == Number.upload_id)
        .where(Number.e164.in_(numbers), Number.sync_state == "live", Number.live_at == now,
               ~exists().where(and_(open_row.e164 == Number.e164, open_row.released_at.is_(None))))
    )
    session.execute(insert(NumberHistory).from_select(list(COLUMNS), source))
