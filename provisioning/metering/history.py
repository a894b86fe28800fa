"""Number history: a stretch opens when the poll first sees a number ACTIVE, and closes when the
number is released (`releases.done`). Written set-based, in the transaction that marks numbers live.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.models import NumberHistory, Service, Upload

COLUMNS = ("e164", "tenant_id", "customer_id", "service_id", "upload_id", "number_type", "cac", "service_info",
           "live_since")


def open_stretches(session: Session, went_live: Sequence[tuple[str, int, int, str]], now: datetime) -> None:
    """Open a stretch at `now` for each number that just went live and has none open.

    `went_live` holds (e164, service_id, upload_id, number_type) as the UPDATE that marked them
    live returned them (`sync.states.mark`), so `numbers` is not read again: joined anew, a
    chunk's numbers were found through whichever index stale statistics made look cheap (on
    PostgreSQL the service's, reading every live number of the service per chunk: syncing
    100,000 numbers took minutes). What else a stretch holds comes from the few services and
    uploads concerned."""
    if not went_live:
        return
    numbers = [row[0] for row in went_live]
    open_now = set(session.scalars(select(NumberHistory.e164).where(NumberHistory.e164.in_(numbers),
                                                                    NumberHistory.released_at.is_(None))))
    services = {row.id: (row.tenant_id, row.customer_id) for row in session.execute(
        select(Service.id, Service.tenant_id, Service.customer_id).where(Service.id.in_({r[1] for r in went_live})))}
    uploads = {row.id: (row.cac, row.service_info) for row in session.execute(
        select(Upload.id, Upload.cac, Upload.service_info).where(Upload.id.in_({r[2] for r in went_live})))}
    rows = [dict(zip(COLUMNS, (e164, *services[service_id], service_id, upload_id, number_type,
                               *uploads[upload_id], now), strict=True))
            for e164, service_id, upload_id, number_type in went_live if e164 not in open_now]
    if rows:  # through the column types (timestamps as each database keeps them); a chunk at most
        session.execute(insert(NumberHistory.__table__), rows)
