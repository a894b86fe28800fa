"""The Numbers Management export: every matching number with its settings, as a CSV file written
straight from a server-side cursor, so a million numbers never sit in memory (SPEC §8: ≤ 4 s).

A number's settings (service, customer, CAC, calling profile, SIP connection, service info) are
those of its upload, so each upload's part of a line is encoded once, with the rules of
`files.exports.csv_bytes` (OWASP-safe cells, a row with a `;` quoted whole), into a template;
each number then only fills in its E.164, type, sync state and upload time. The numbers are read
as plain driver tuples (no ORM rows), in e164 order from the e164 index.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.directory import Actor
from provisioning.files.exports import csv_bytes, safe_cell
from provisioning.files.sheet import BOM
from provisioning.numbers_management import Match, match
from provisioning.progress import Progress, silent
from store.bulk import stream
from store.db import Database
from store.models import CallingProfile, Customer, Service, SipConnection, Upload

EXPORT_HEADER = ("Number", "Service", "Customer", "Number Type", "CAC", "Calling Profile", "SIP Connection",
                 "Service Info", "Sync State", "Uploaded")


def export_to(db: Database, actor: Actor, query: str, out: BinaryIO, progress: Progress | None = None,
              total: int | None = None) -> int:
    """Write the CSV export of every number matching `query` to `out`; returns how many were written.
    `progress` hears of it batch by batch (of `total`, when known)."""
    progress = progress or silent()
    with db.sessions() as session:
        found = match(session, actor, query)
        out.write(csv_bytes(EXPORT_HEADER, ()))  # the BOM and the header row
        if not found.services:
            return 0
        templates = _Templates(session, found)
        count = 0
        for rows in _numbers(session, found):
            progress.tick("written to the export", count, total, "number")
            out.write("".join(templates[upload_id].format(e164, number_type, state, when)
                              for e164, upload_id, number_type, state, when in rows).encode())
            count += len(rows)
        return count


class _Templates(dict):
    """Upload id -> its line with `{0}`..`{3}` where the number's own cells go; an upload not
    loaded up front (none should be missing) is looked up when first met."""

    def __init__(self, session: Session, found: Match):
        super().__init__()
        self.session, self.found = session, found
        self._load(Upload.service_id.in_(sorted(found.services)))

    def __missing__(self, upload_id: int) -> str:
        self._load(Upload.id == upload_id)
        return self[upload_id]

    def _load(self, condition) -> None:
        uploads = self.session.execute(
            select(Upload.id, Upload.service_id, Upload.cac, CallingProfile.name, SipConnection.name,
                   Upload.service_info)
            .join(CallingProfile, CallingProfile.id == Upload.calling_profile_id)
            .join(SipConnection, SipConnection.id == Upload.sip_connection_id)
            .where(condition)
        )
        for upload_id, service_id, cac, profile, sip, info in uploads:
            service, customer = self.found.services.get(service_id) or _names(self.session, service_id)
            self[upload_id] = _line((service, customer), ("" if cac is None else str(cac), profile, sip, info))


def _names(session: Session, service_id: int) -> tuple[str, str]:
    return tuple(session.execute(select(Service.name, Customer.name).join(Customer, Customer.id == Service.customer_id)
                                 .where(Service.id == service_id)).one())


def _line(before_type: tuple[str, ...], after_type: tuple[str, ...]) -> str:
    """One CSV line as `csv_bytes` writes it, as a str.format template for the number's own cells
    (E.164, type, sync state, time: never anything that needs quoting or a `'`)."""
    quote_all = any(";" in cell for cell in (*before_type, *after_type))
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL

    def encoded(cells: tuple[str, ...]) -> str:
        text = io.StringIO()
        csv.writer(text, quoting=quoting, lineterminator="").writerow([safe_cell(cell) for cell in cells])
        return text.getvalue().replace("{", "{{").replace("}", "}}")

    q = '"' if quote_all else ""
    return (f"{q}{{0}}{q},{encoded(before_type)},{q}{{1}}{q},{encoded(after_type)},{q}{{2}}{q},{q}{{3}}{q}\r\n")


def _numbers(session: Session, found: Match) -> Iterator[list[tuple]]:
    """(e164, upload_id, number_type, sync_state, "YYYY-MM-DD HH:MM UTC") in e164 order, in lists."""
    postgres = session.connection().dialect.name == "postgresql"
    when = ("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'" if postgres
            else "substr(created_at, 1, 16) || ' UTC'")
    where = f"service_id IN ({', '.join(str(int(service_id)) for service_id in sorted(found.services))})"
    params = {}
    if found.low is not None:
        where += " AND e164 >= :low AND e164 < :high"
        params = {"low": found.low, "high": found.high}
    return stream(session, f"SELECT e164, upload_id, number_type, sync_state, {when} FROM numbers WHERE {where} "
                           "ORDER BY e164", params)


def export_bytes(db: Database, actor: Actor, query: str) -> bytes:
    """The whole export in memory (small exports and tests); `export_to` streams it to a file."""
    out = io.BytesIO()
    export_to(db, actor, query, out)
    return out.getvalue()


__all__ = ["BOM", "EXPORT_HEADER", "export_bytes", "export_to"]
