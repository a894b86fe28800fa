"""Markdown pieces shared by several replies: lists that fit one message, dates, upload previews."""
from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, Callable, Sequence

from handlers.base import Reply, ReplyFile
from provisioning.text import MAX_MESSAGE_BYTES, NAME_LIMIT, counted, how_many_fit, literal
from provisioning.uploads.previews import UploadSummary

_SPARE = 600  # room for the lines a handler adds after a list


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def size_of(lines: Sequence[str]) -> int:
    """Bytes of the lines joined as one message."""
    return sum(len(line.encode()) + 1 for line in lines)


def fit_lines(head: Sequence[str], items: Sequence[str], more: Callable[[int], str], *, total: int | None = None,
              limit: int = MAX_MESSAGE_BYTES - _SPARE) -> tuple[list[str], int]:
    """`head` and as many `items` as fit in `limit` bytes, then `more(count left out)` when some were
    (of `total`, when the items are only the first ones); returns the lines and how many items they list.

    Names come from the inventory (up to 200 characters each), so a count of lines is no bound.
    """
    total = len(items) if total is None else total
    listed = how_many_fit(items, limit - size_of(head), separator_bytes=1)
    lines = [*head, *items[:listed]]
    return ([*lines, more(total - listed)] if total > listed else lines), listed


def _count_lines(summary: UploadSummary) -> list[str]:
    lines = [f"- ✅ **{summary.valid:,}** valid number{'s' if summary.valid != 1 else ''}"]
    if summary.invalid:
        lines.append(f"- ❌ **{summary.invalid:,}** invalid")
    if summary.already:
        lines.append(f"- ↩️ **{summary.already:,}** already uploaded to this service (skipped)")
    if summary.duplicates:
        lines.append(f"- 🔁 **{summary.duplicates:,}** repeated in the upload (kept once)")
    if summary.webex_check == "checked":
        lines.append("- Checked with the customer's Webex too (numbers it says are in use are invalid)")
    elif summary.webex_check == "local":
        lines.append("- Checked locally only: Webex could not be asked in time")
    return lines


def preview_reply(summary: UploadSummary, invalid_report: bytes | BinaryIO | None) -> Reply:
    """The preview: counts, the first problems, and what to do next (with Submit/Cancel on Webex)."""
    lines = [f"**Preview #{summary.upload_id} for {literal(summary.service, NAME_LIMIT)}** "
             f"({counted(summary.entries, 'entry', 'entries')} read)", *_count_lines(summary)]
    if summary.read_as:
        lines.append("")
        lines.append("Read as:")
        lines.extend(f"- {literal(written, 60)} → {reading}" for written, reading in summary.read_as)
    if summary.sample_invalid:
        lines.append("")
        lines.append("Problems:")
        lines.extend(f"- row {i.row} {literal(i.value, 64)}: {i.reason}" for i in summary.sample_invalid)
    files: tuple[ReplyFile, ...] = ()
    if invalid_report is not None:
        name = f"upload-{summary.upload_id}-invalid-rows.csv"
        files = (ReplyFile(name, invalid_report),)
        lines.append(f"…and {summary.reported - summary.sampled:,} more: every row is in `{name}`.")
    lines.append("")
    if summary.valid:
        lines.append(f"Nothing is stored yet. `submit {summary.upload_id}` stores the "
                     f"{counted(summary.valid, 'valid number')}; `cancel {summary.upload_id}` drops the preview.")
        card = {"kind": "preview", "upload_id": summary.upload_id, "service": summary.service}
    else:
        lines.append(f"There is nothing valid to submit. Fix the entries and upload again (`cancel {summary.upload_id}` "
                     "drops this preview).")
        card = None
    return Reply("\n".join(lines), card=card, files=files)
