"""Upload entries: a single number or a range START-END (SPEC §2.3).

How `split_entry` tells a range from a single number written with dashes. A dash (-, –, —
or another of `e164.DASHES`) separates START from END when:

1. it has whitespace on both sides ("+12127881500 - 1599"), and it is the only such dash; or
2. a + follows it, i.e. END is written in full ("+12127881500-+12127881599"); or
3. it is the last dash, only 1 to len(START) digits follow it, the whole text read as one
   number is not a valid number, and START is a valid number or contains no other dash
   ("+12127881500-1599", "+1-212-788-1500-1599"); or
4. it ends the text ("+12127881500-": END is missing, which `parse_range` reports).

So "+1-212-788-1500" and "+39 02-1234-5678" stay single numbers. Text that could be either
(German extension style "+49 30 1234567-89" is itself a valid number) is read as one number;
write ranges with spaces around the dash, or END in full, to be unambiguous.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from provisioning.numbers.e164 import (
    DASHES,
    NumberChecker,
    NumberError,
    is_valid_e164,
    normalise,
)
from provisioning.settings import Settings

_SPACED_DASH = re.compile(rf"(?<=\s)[{DASHES}](?=\s)")
_DASH_BEFORE_PLUS = re.compile(rf"[{DASHES}](?=\s*\+)")
_TRAILING_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Entry:
    """One entry of an upload, both ends normalised E.164 of the same length; end == start for one number."""

    start: str
    end: str

    def __post_init__(self) -> None:
        if len(self.start) != len(self.end) or self.start > self.end:
            raise ValueError(f"not an ascending range of equal-length numbers: {self.start}-{self.end}")

    @property
    def count(self) -> int:
        return int(self.end[1:]) - int(self.start[1:]) + 1

    def numbers(self) -> Iterator[str]:
        """Every E.164 of the entry, ascending (equal length, so no zero padding is needed)."""
        for value in range(int(self.start[1:]), int(self.end[1:]) + 1):
            yield f"+{value}"


def split_entry(text: str) -> tuple[str, str | None]:
    """Split "START-END" into raw (start, end) texts; (text, None) for a single number. See module doc."""
    stripped = text.strip()
    spaced = _SPACED_DASH.findall(stripped)
    if len(spaced) == 1:
        return _cut(stripped, _SPACED_DASH.search(stripped).start())
    before_plus = _DASH_BEFORE_PLUS.search(stripped)
    if before_plus:
        return _cut(stripped, before_plus.start())
    last = max(stripped.rfind(dash) for dash in DASHES)
    if last > 0:
        left, right = stripped[:last], stripped[last + 1:]
        if not right or _is_trailing_end(left, right, stripped):
            return _cut(stripped, last)
    return stripped, None


def _cut(text: str, at: int) -> tuple[str, str]:
    return text[:at].strip(), text[at + 1:].strip()


def _is_trailing_end(left: str, right: str, whole: str) -> bool:
    """Rule 3 of the module doc: `right` is END's trailing digits, not the tail of one number."""
    start, right = normalise(left), right.strip()
    start_digits = sum("0" <= char <= "9" for char in start)
    if not _TRAILING_DIGITS.fullmatch(right) or len(right) > start_digits:
        return False
    if is_valid_e164(normalise(whole)):
        return False
    return is_valid_e164(start) or not any(dash in left for dash in DASHES)


def parse_range(start_raw: str, end_raw: str | None, checker: NumberChecker, *,
                max_range: int = Settings.max_range) -> Entry:
    """Check both ends and the shape of the range; the numbers inside are left to `invalid_in_range`.

    END is a full number or START's trailing digits ("+12127881500", "1599" -> +12127881599).
    """
    if end_raw is None:
        start = checker.check(start_raw)
        return Entry(start, start)
    start = _checked("range start", start_raw, checker)
    end = _resolve_end(start, end_raw, checker)
    if len(start) != len(end):
        raise NumberError(f"range ends differ in length ({start} has {len(start) - 1} digits, {end} has "
                          f"{len(end) - 1}) — START and END need the same number of digits")
    if start > end:
        raise NumberError(f"range runs backwards ({start} to {end}) — write the lower number first")
    count = int(end[1:]) - int(start[1:]) + 1
    if count > max_range:
        raise NumberError(f"range of {count:,} numbers is over the limit of {max_range:,} — "
                          f"split it into smaller ranges")
    return Entry(start, end)


def _checked(label: str, raw: str, checker: NumberChecker) -> str:
    try:
        return checker.check(raw)
    except NumberError as exc:
        raise NumberError(f"{label}: {exc.reason}") from None


def _resolve_end(start: str, end_raw: str, checker: NumberChecker) -> str:
    """END in full, or START with its last digits replaced by END's digits."""
    digits = normalise(end_raw)
    start_digits = start[1:]
    if not digits:
        raise NumberError("range end is missing — write START-END, e.g. +12127881500-1599")
    if not _TRAILING_DIGITS.fullmatch(digits):
        return _checked("range end", end_raw, checker)  # a full number (or a broken one: check says why)
    if len(digits) > len(start_digits):
        raise NumberError(f"range end has more digits than the start ({len(digits)} and {len(start_digits)}) — "
                          f"write END in full with + or only its last digits")
    if len(digits) == len(start_digits):
        raise NumberError(f"range end: missing + sign — write +{digits} or only the digits that change")
    end = f"+{start_digits[: len(start_digits) - len(digits)]}{digits}"
    return _checked(f"range end (read as {end})", end, checker)


def invalid_in_range(entry: Entry, checker: NumberChecker) -> Iterator[str]:
    """The numbers of the entry that are not valid, by the fast path."""
    is_valid = checker.is_valid_e164
    for e164 in entry.numbers():
        if not is_valid(e164):
            yield e164


def parse_entry(text: str, checker: NumberChecker, *, max_range: int = Settings.max_range) -> Entry:
    """One upload entry as typed: `split_entry` then `parse_range`."""
    start, end = split_entry(text)
    return parse_range(start, end, checker, max_range=max_range)
