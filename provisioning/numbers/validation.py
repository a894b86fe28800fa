"""Turns raw entries (command arguments, card fields, spreadsheet rows) into valid numbers and invalid rows.

One pipeline for every entry path (SPEC §2), streaming so a million-row file never sits in memory:
only the set of numbers already seen (as integers) is kept, to report in-upload duplicates once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from provisioning.numbers.e164 import DASHES, MAX_NUMBER_CHARS, NumberChecker, NumberError, check_length
from provisioning.numbers.ranges import Entry, invalid_in_range, parse_range, split_entry


class RawEntry(NamedTuple):
    """One entry as the operator wrote it: a typed word, or a data row of a file (its cells stripped).

    A tuple, and the very one a file reader yields: a million are made per read of a file, and
    an upload's entries are read twice."""

    row: int  # the row as the spreadsheet shows it (header 1, first data row 2) or the word's position
    number: str  # the Number cell, or the word
    range_end: str = ""  # the Range End cell ('' when the column is absent or the cell is empty)

    @property
    def text(self) -> str:
        return f"{self.number}-{self.range_end}" if self.range_end else self.number


class Invalid(NamedTuple):
    row: int
    value: str
    reason: str


class Valid(NamedTuple):
    """A tuple, like RawEntry: a million are made per preview."""

    row: int
    e164: str


@dataclass
class Tally:
    """Running counts of one validation pass."""

    entries: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0


DUPLICATE_REASON = "duplicate — this number appears more than once in the upload (it is kept once)"


_DASH = re.compile(f"[{DASHES}]")


def may_be_range(text: str) -> bool:
    """Whether a single cell or word could be START-END (it has a dash), so it needs `split_entry`."""
    return _DASH.search(text) is not None


def parse_raw_entry(raw: RawEntry, checker: NumberChecker, max_range: int) -> Entry:
    """A single number or a range, both ends checked; raises NumberError."""
    check_length(raw.number, 2 * MAX_NUMBER_CHARS + 3)  # a range typed in one cell: START - END
    check_length(raw.range_end)
    if raw.range_end:
        return parse_range(raw.number, raw.range_end, checker, max_range=max_range)
    if not may_be_range(raw.number):
        e164 = checker.check(raw.number)
        return Entry(e164, e164)
    start, end = split_entry(raw.number)
    if end is None:
        e164 = checker.check(start)
        return Entry(e164, e164)
    return parse_range(start, end, checker, max_range=max_range)


def validate(raw_entries: Iterable[RawEntry], checker: NumberChecker, *, max_range: int,
             tally: Tally | None = None) -> Iterator[Valid | Invalid]:
    """Yield every valid number once and every invalid entry, in input order."""
    tally = tally if tally is not None else Tally()
    seen: set[int] = set()
    reported_duplicates: set[int] = set()
    strict = checker.strict
    for raw in raw_entries:
        tally.entries += 1
        e164 = None if raw.range_end else strict(raw.number)  # the fast path: most cells of a big file
        if e164 is not None:
            entry = None
        else:
            try:
                entry = parse_raw_entry(raw, checker, max_range)
            except NumberError as exc:
                tally.invalid += 1
                yield Invalid(raw.row, raw.text, exc.reason)
                continue
            e164 = entry.start if entry.start == entry.end else None
        if e164 is not None:
            key = int(e164[1:])
            if key not in seen:
                seen.add(key)
                tally.valid += 1
                yield Valid(raw.row, e164)
                continue
            entry = entry or Entry(e164, e164)
        bad = set(invalid_in_range(entry, checker)) if entry.count > 1 else set()
        for e164 in sorted(bad):
            tally.invalid += 1
            yield Invalid(raw.row, e164, f"not a valid {checker.country} number — inside range {entry.start}-{entry.end}; "
                                            "split the range around it")
        for e164 in entry.numbers():
            if e164 in bad:
                continue
            key = int(e164[1:])
            if key in seen:
                if key not in reported_duplicates:
                    reported_duplicates.add(key)
                    tally.duplicates += 1
                    yield Invalid(raw.row, e164, DUPLICATE_REASON)
                continue
            seen.add(key)
            tally.valid += 1
            yield Valid(raw.row, e164)


_ENTRY_SEPARATORS = str.maketrans({",": "\n", ";": "\n", "\r": "\n"})


def split_typed(text: str) -> list[str]:
    """Entries typed in a message (SPEC §2 rule 1): separated by commas, semicolons, new lines,
    or the next `+` — except a `+` right after a range dash, which starts the range's END.

    Everything between separators is one entry, spaces included (`+1 212 788 1610-1619`).
    One pass over the text, so any message costs linear time.
    """
    entries: list[str] = []
    for line in text.translate(_ENTRY_SEPARATORS).split("\n"):
        start, last = 0, ""  # where the current entry starts; its last non-space character
        for index, char in enumerate(line):
            if char == "+" and last and last not in DASHES:
                entries.append(line[start:index])
                start = index
            if not char.isspace():
                last = char
        entries.append(line[start:])
    return [entry.strip() for entry in entries if entry.strip()]


def entries_from_text(text: str) -> list[RawEntry]:
    """The typed entries of a message, numbered from 1 in the order written."""
    return [RawEntry(position, entry) for position, entry in enumerate(split_typed(text), start=1)]
