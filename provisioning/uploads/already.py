"""Numbers a preview finds already uploaded to its service stay in staging; the store marks them.

Sending the same list again is common, and a re-upload of a million numbers used to copy each
one into the invalid-rows report and delete it from staging: a million rows written twice
(on PostgreSQL as many index entries and dead rows too), most of that preview's time. Now the
preview only counts them. A staged number is "already uploaded" while the store holds it for
the upload's service, so: submit skips those, the Webex check leaves them out, and the report
and its sample read them from staging beside the invalid entries. Before staging is emptied
(submit, cancel) they are written into the report, so it stays whole for the audit trail.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, insert, select, text
from sqlalchemy import literal as sql_literal
from sqlalchemy.orm import Session

from store.models import InvalidEntry, Number, StagedNumber, Upload

ALREADY_UPLOADED = "already uploaded to this service"

INVALID = ('SELECT "row", value, reason, 0 AS part, id AS rank_id, \'\' AS rank_value FROM invalid_entries '
           'WHERE upload_id = :upload')
ALREADY = ('SELECT s."row" AS "row", s.e164 AS value, :already AS reason, 1 AS part, 0 AS rank_id, '
           's.e164 AS rank_value FROM staged_numbers s '
           'JOIN numbers n ON n.e164 = s.e164 AND n.service_id = :service WHERE s.upload_id = :upload')
ORDER = ' ORDER BY "row", part, rank_id, rank_value'


def report_query(upload: Upload, first: int | None = None) -> tuple[str, dict]:
    """SQL and parameters for the report rows of `upload` in row order (the `first` ones only):
    its invalid entries in the order they were found, then, within the same row, the staged
    numbers the service already holds, by number. Without already-uploaded numbers (the usual
    case) staging is not read at all."""
    params = {"upload": upload.id, "service": upload.service_id, "already": ALREADY_UPLOADED}
    parts = [INVALID, ALREADY] if upload.already_count else [INVALID]
    if first is not None:  # each part sorted and cut first: the top of a million rows, not all of them
        params["first"] = first
        parts = [f"SELECT * FROM ({part}{ORDER} LIMIT :first) AS part_{n}" for n, part in enumerate(parts)]
    sql = 'SELECT "row", value, reason FROM (' + " UNION ALL ".join(parts) + ") AS report" + ORDER
    return (sql + " LIMIT :first" if first is not None else sql), params


def already_uploaded(upload: Upload) -> ColumnElement[bool]:
    """True for a staged number of `upload` that the store holds for the upload's service."""
    return exists().where(Number.e164 == StagedNumber.e164, Number.service_id == upload.service_id)


def to_store(upload: Upload) -> list[ColumnElement[bool]]:
    """The staged numbers of `upload` that submit stores (and Webex is asked about)."""
    mine = [StagedNumber.upload_id == upload.id]
    if upload.already_count:
        mine.append(~already_uploaded(upload))
    return mine


def sample(session: Session, upload: Upload, rows: int) -> list[tuple[int, str, str]]:
    """The first `rows` report rows."""
    sql, params = report_query(upload, rows)
    return [tuple(row) for row in session.execute(text(sql), params)]


def keep_in_report(session: Session, upload: Upload) -> None:
    """Before staging is emptied, and before submit stores anything: the already-uploaded numbers
    become rows of the report."""
    if not upload.already_count:
        return
    found = (select(sql_literal(upload.id), StagedNumber.row, StagedNumber.e164, sql_literal(ALREADY_UPLOADED))
             .where(StagedNumber.upload_id == upload.id, already_uploaded(upload)))
    session.execute(insert(InvalidEntry).from_select(["upload_id", "row", "value", "reason"], found))
