"""Previews: validate every entry and stage the valid numbers, nothing stored yet (SPEC §2).

A preview keeps its valid numbers in `staged_numbers` so that it survives between messages
(and between shell runs) until `submission` stores or drops it, or `expiry` deletes it after
PREVIEW_TTL_HOURS. Checks against the store are set-based queries, never one query per number.
The entries are read twice: once to count the numbers against MAX_UPLOAD_NUMBERS, before
anything is written, then to validate and stage them.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from typing import BinaryIO

from sqlalchemy import case, delete, exists, func, insert, select, update
from sqlalchemy import literal as sql_literal
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import Actor, find_service
from provisioning.errors import UserError
from provisioning.files.exports import write_invalid_rows
from provisioning.numbers.e164 import DASHES, NumberChecker, NumberError
from provisioning.numbers.limits import count_numbers
from provisioning.numbers.metadata import mobile_test
from provisioning.numbers.validation import Invalid, RawEntry, Tally, Valid, parse_raw_entry, validate
from provisioning.progress import Progress, silent
from provisioning.settings import Settings
from provisioning.text import NAME_LIMIT, literal
from provisioning.uploads.already import report_query, to_store
from provisioning.uploads.already import sample as report_sample
from provisioning.uploads.options import UploadOptions, check_accepts_numbers, check_not_releasing, check_options
from provisioning.uploads.webex_check import CHECKED, NumberCheck, check_with_webex
from store.bulk import bulk_insert, chunks, refresh_statistics, stream
from store.db import Database
from store.models import InvalidEntry, Number, Service, StagedNumber, Upload

BATCH = 20_000
READ_AS_SHOWN = 8  # entries whose reading the preview shows
SAMPLE_ROWS = 2_000  # report rows read to group the first problems
ASSIGNED = "assigned to service "
MOBILE_REASON = ("mobile number: Webex adds mobile numbers through a carrier order, not through its numbers API, "
                 "so an integrated service cannot take it")
Entries = Callable[[], Iterable[RawEntry]]  # each call reads the entries afresh


@dataclass(frozen=True)
class UploadSummary:
    """What the operator is shown about an upload."""

    upload_id: int
    service: str
    state: str
    valid: int
    invalid: int
    already: int
    duplicates: int
    entries: int
    sample_invalid: tuple[Invalid, ...]
    kind: str = "upload"  # or "release"
    webex_check: str | None = None  # "checked" by Webex's validateNumbers, "local" only, or not applicable
    sampled: int = 0  # report entries the sample covers (a run of a range is one sample line)
    read_as: tuple[tuple[str, str], ...] = ()  # (entry as written, how it was read) where they differ

    @property
    def reported(self) -> int:
        """Entries in the invalid-rows report: invalid, already uploaded and repeated ones."""
        return self.invalid + self.already + self.duplicates


def _stage(session: Session, upload_id: int, results: Iterable[Valid | Invalid],
           on_batch: Callable[[], None] = lambda: None) -> None:
    """Bulk-insert valid numbers into staging and invalid entries into the report, in batches.

    Validation (Python) and the writes (mostly the database driver, which lets other threads
    run) overlap: one thread writes a batch while this one validates the next. One batch at a
    time is in flight, so memory stays bounded; the session is used by the writer alone until
    the last write is done, and an error on either side ends staging (the preview's transaction
    is then rolled back by its owner)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="staging") as writer:
        in_flight = None
        for chunk in chunks(results, BATCH):
            on_batch()
            if in_flight is not None:
                in_flight.result()
            in_flight = writer.submit(_write_batch, session, upload_id, chunk)
        if in_flight is not None:
            in_flight.result()


def _write_batch(session: Session, upload_id: int, chunk: list[Valid | Invalid]) -> None:
    upload = {"upload_id": upload_id}
    valid = [r for r in chunk if type(r) is Valid]  # (row, e164) tuples, written as they are
    if valid:
        bulk_insert(session, StagedNumber.__table__, Valid._fields, valid, fixed=upload)
    if len(valid) < len(chunk):
        invalid = [(r.row, r.value[:500], r.reason) for r in chunk if type(r) is Invalid]
        bulk_insert(session, InvalidEntry.__table__, ("row", "value", "reason"), invalid, fixed=upload)


def _move_conflicts(session: Session, upload: Upload, tenant_id: int) -> tuple[int, int]:
    """Count the staged numbers the service already holds (they stay staged: uploads/already.py),
    and move those held by another service into the report; returns (already, moved). The usual
    upload of new numbers and a re-upload of known ones both cost one join with the store."""
    found = (select(func.count().filter(Number.service_id == upload.service_id),
                    func.count().filter(Number.service_id != upload.service_id))
             .select_from(StagedNumber).join(Number, Number.e164 == StagedNumber.e164)
             .where(StagedNumber.upload_id == upload.id))
    already, elsewhere = session.execute(found).one()
    if not elsewhere:
        return already or 0, 0
    conflict = (
        select(StagedNumber.row, StagedNumber.e164, Service.name, Service.tenant_id)
        .join(Number, Number.e164 == StagedNumber.e164)
        .join(Service, Service.id == Number.service_id)
        .where(StagedNumber.upload_id == upload.id, Number.service_id != upload.service_id)
    ).subquery()
    reason = case(
        (conflict.c.tenant_id == tenant_id, sql_literal(ASSIGNED) + conflict.c.name),
        else_=sql_literal("assigned to a service of another tenant"),
    )
    session.execute(insert(InvalidEntry).from_select(
        ["upload_id", "row", "value", "reason"],
        select(sql_literal(upload.id), conflict.c.row, conflict.c.e164, reason),
    ))
    _show_service_names(session, upload.id)
    # synchronize_session=False: the ORM would otherwise fetch every deleted key (RETURNING) to
    # update a session that holds none of these rows.
    taken = exists().where(Number.e164 == StagedNumber.e164, Number.service_id != upload.service_id)
    moved = session.execute(delete(StagedNumber).where(StagedNumber.upload_id == upload.id, taken)
                            .execution_options(synchronize_session=False)).rowcount
    return already, moved


def _show_service_names(session: Session, upload_id: int) -> None:
    """Write the service names in "assigned to service NAME" reasons as `literal` text: the preview
    shows reasons as Markdown. One UPDATE per service an upload collides with (usually none)."""
    mine = (InvalidEntry.upload_id == upload_id, InvalidEntry.reason.startswith(ASSIGNED, autoescape=True))
    for raw in session.scalars(select(InvalidEntry.reason).where(*mine).distinct()).all():
        shown = ASSIGNED + literal(raw[len(ASSIGNED):], NAME_LIMIT)
        session.execute(update(InvalidEntry).where(InvalidEntry.upload_id == upload_id, InvalidEntry.reason == raw)
                        .values(reason=shown).execution_options(synchronize_session=False))


def refuse_mobile(results: Iterable[Valid | Invalid], country: str, tally: Tally) -> Iterator[Valid | Invalid]:
    """Integrated services cannot take mobile numbers (SPEC §5.2): Webex's numbers API refuses them."""
    is_mobile = mobile_test(country)
    for result in results:
        if type(result) is Valid and is_mobile(result.e164):
            tally.valid -= 1
            tally.invalid += 1
            yield Invalid(result.row, result.e164, MOBILE_REASON)
        else:
            yield result


def preview(db: Database, actor: Actor, room_id: str, service_name: str, options: UploadOptions,
            entries: Entries, settings: Settings, *, source: str, filename: str | None = None,
            number_check: NumberCheck | None = None, progress: Progress | None = None) -> UploadSummary:
    """Validate every entry and stage the valid numbers; nothing reaches `numbers` until submit.

    One transaction: an error while reading the entries (a damaged file) leaves nothing behind.
    """
    with db.sessions.begin() as session:
        return _preview(session, actor, room_id, service_name, options, entries, settings, source, filename,
                        number_check, progress or silent())


def _preview(session: Session, actor: Actor, room_id: str, service_name: str, options: UploadOptions,
             entries: Entries, settings: Settings, source: str, filename: str | None,
             number_check: NumberCheck | None, progress: Progress) -> UploadSummary:
    service = find_service(session, actor, service_name)
    check_accepts_numbers(service)
    check_not_releasing(session, service)
    checked = check_options(session, actor, service, options)
    checker = NumberChecker(service.country)
    total = count_numbers(entries(), checker, max_range=settings.max_range, limit=settings.max_upload_numbers,
                          unit="row" if source == "file" else "entry")
    upload = Upload(
        tenant_id=actor.tenant_id, service_id=service.id, operator_id=actor.operator_id, room_id=room_id,
        source=source, filename=filename, number_type=checked.number_type, cac=checked.cac,
        calling_profile_id=checked.calling_profile.id, sip_connection_id=checked.sip_connection.id,
        service_info=checked.service_info,
    )
    session.add(upload)
    session.flush()
    tally = Tally()
    results = validate(entries(), checker, max_range=settings.max_range, tally=tally)
    if service.mode == "integrated":
        results = refuse_mobile(results, service.country, tally)
    _stage(session, upload.id, results,
           lambda: progress.tick("checked", tally.valid + tally.invalid + tally.duplicates, total, "number"))
    refresh_statistics(session, StagedNumber.__table__, tally.valid)
    if tally.entries == 0:
        raise UserError("No numbers given. Write them after the options, e.g. `+390212345678` or a range "
                        "`+390212345600-699`, or attach a file (`template` gives one).")
    upload.already_count, moved = _move_conflicts(session, upload, actor.tenant_id)
    webex_verdict = check_with_webex(session, upload, service, number_check)
    upload.entries = tally.entries
    if webex_verdict == CHECKED:  # Webex may have refused some (at most 10,000 staged): count them
        stored = select(func.count()).select_from(StagedNumber).where(*to_store(upload))
        upload.valid_count = session.scalar(stored) or 0
    else:
        upload.valid_count = tally.valid - moved - upload.already_count  # every valid number was staged once
    upload.duplicate_count = tally.duplicates
    upload.invalid_count = tally.invalid + tally.valid - upload.valid_count - upload.already_count
    audit(session, actor.email, "upload.preview", f"upload {upload.id} {service.name}: {upload.valid_count} valid, "
          f"{upload.invalid_count} invalid", tenant_id=actor.tenant_id, room_id=room_id)
    return replace(summarize(session, upload, webex_check=webex_verdict),
                   read_as=read_as(entries(), checker, settings.max_range))


def read_as(entries: Iterable[RawEntry], checker: NumberChecker, max_range: int,
            shown: int = READ_AS_SHOWN) -> tuple[tuple[str, str], ...]:
    """How the first entries were understood, where that is not plain from how they were written:
    spaces or dashes read as formatting (`+1212788150-9` is +12127881509), a range and its size.
    Entries that could not be read are left to the problems list."""
    found = []
    for raw in islice(entries, shown):
        try:
            entry = parse_raw_entry(raw, checker, max_range)
        except NumberError:
            continue
        if entry.count > 1:
            found.append((raw.text, f"{entry.start}–{entry.end} ({entry.count:,} numbers)"))
        elif raw.text != entry.start:
            dashed = any(char in raw.text for char in DASHES)
            found.append((raw.text, entry.start + (" (the dash read as part of the number)" if dashed else "")))
    return tuple(found)


def summarize(session: Session, upload: Upload, sample: int = 10, webex_check: str | None = None) -> UploadSummary:
    rows = report_sample(session, upload, SAMPLE_ROWS)
    grouped, sampled = _grouped([Invalid(*row) for row in rows], sample)
    return UploadSummary(
        upload.id, upload.service.name, upload.state, upload.valid_count, upload.invalid_count,
        upload.already_count, upload.duplicate_count, upload.entries, grouped, upload.kind or "upload",
        sampled=sampled, webex_check=webex_check,
    )


def _grouped(rows: list[Invalid], sample: int) -> tuple[tuple[Invalid, ...], int]:
    """The first `sample` problems, a run of consecutive numbers of one row with one reason (a range
    already uploaded) as one line `START–END (N numbers)`; and how many report rows they cover."""
    runs: list[list[Invalid]] = []
    for row in rows:
        last = runs[-1][-1] if runs else None
        if (last is not None and last.row == row.row and last.reason == row.reason
                and _next_number(last.value, row.value)):
            runs[-1].append(row)
        elif len(runs) == sample:
            break
        else:
            runs.append([row])
    shown = tuple(run[0] if len(run) == 1 else Invalid(run[0].row, f"{run[0].value}–{run[-1].value}",
                                                        f"{len(run):,} numbers {run[0].reason}")
                  for run in runs)
    return shown, sum(len(run) for run in runs)


def _next_number(previous: str, value: str) -> bool:
    """Whether `value` is the E.164 number right after `previous`."""
    return (previous[:1] == value[:1] == "+" and len(previous) == len(value) and previous[1:].isdigit()
            and value[1:].isdigit() and int(value[1:]) == int(previous[1:]) + 1)


def invalid_report(db: Database, summary: UploadSummary) -> BinaryIO | None:
    """The invalid-rows CSV (row, value, reason), when there is more to report than the sample, in
    an anonymous temporary file: re-uploading a million numbers reports a million rows."""
    if summary.reported <= summary.sampled:
        return None
    out = tempfile.TemporaryFile(prefix="leadsbot-report-")  # noqa: SIM115 (handed to the reply)
    with db.sessions() as session:
        write_invalid_rows(out, _report_rows(session, session.get(Upload, summary.upload_id)))
    return out


def _report_rows(session: Session, upload: Upload) -> Iterator[tuple[int, str, str]]:
    """Every report row of an upload in row order, streamed as driver tuples."""
    for rows in stream(session, *report_query(upload)):
        yield from rows
