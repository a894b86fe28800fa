"""How many numbers an upload or a release holds, every range expanded, counted before anything
is staged (SPEC §3, `MAX_UPLOAD_NUMBERS`).

`MAX_ROWS` bounds the rows of a file, but one row or one typed word can be a range of
`MAX_RANGE` numbers: 40 typed ranges are 4,000,000 numbers. The count reads the entries
once without writing anything and stops as soon as the limit is passed, so refusing an
oversized upload costs no more than reading up to the entry that passes it.
"""
from __future__ import annotations

from collections.abc import Iterable

from provisioning.errors import UserError
from provisioning.numbers.e164 import NumberChecker, NumberError
from provisioning.numbers.validation import RawEntry, may_be_range, parse_raw_entry


class TooManyNumbers(UserError):
    """The entries hold more numbers than one upload (or release) may."""


def entry_size(raw: RawEntry, checker: NumberChecker, max_range: int) -> int:
    """The numbers an entry stands for: a range's length; 1 for a single number, and for an entry
    that is not valid (it becomes one row of the report)."""
    if not raw.range_end and not may_be_range(raw.number):
        return 1
    try:
        return parse_raw_entry(raw, checker, max_range).count
    except NumberError:
        return 1


def count_numbers(entries: Iterable[RawEntry], checker: NumberChecker, *, max_range: int, limit: int,
                  what: str = "upload", unit: str = "row") -> int:
    """The numbers `entries` hold with every range expanded; TooManyNumbers once past `limit`.

    `what` names the action ("upload", "release") and `unit` what an entry's position is
    ("row" of a file, "entry" of a message) in the message.
    """
    total = 0
    for raw in entries:
        # inline for the common single number (digits after the `+`, so no dash: no range), a
        # million of which are counted before a preview
        single = not raw.range_end and (raw.number[1:].isdigit() or not may_be_range(raw.number))
        total += 1 if single else entry_size(raw, checker, max_range)
        if total > limit:
            raise TooManyNumbers(
                f"This {what} holds more than {limit:,} numbers with its ranges expanded (the limit is {limit:,} "
                f"per {what}; {unit} {raw.row:,} passes it): split it into several {what}s. Nothing was stored.")
    return total
