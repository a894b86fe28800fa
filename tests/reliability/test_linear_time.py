"""No cell, however crafted, costs more than linear time to check (issue 16, SPEC §3).

`spreadsheet_hint` once took 59.6 s of CPU on `"=1" + " " * 64_000 + "x"` (one shared string of a
1,704-byte XLSX): its pattern split the run of spaces between two quantifiers in every possible
way. These tests measure the time per character at two sizes and assert the RATIO stays flat (a
quadratic pattern makes it grow with the size), never a wall-clock limit.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from provisioning.numbers.e164 import NumberChecker, spreadsheet_hint
from provisioning.numbers.ranges import split_entry
from provisioning.numbers.validation import RawEntry, validate
from tests.reliability.conftest import ROMA, check_reply, snapshot
from tests.support.workbooks import minimal_xlsx

SMALL, LARGE = 500, 8_000  # a quadratic cost would make the large size's time per character 16 times larger
FLAT = 4.0                 # allowed growth of the time per character (noise, caches)
ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "formula with trailing spaces": lambda n: "=1" + " " * n + "x",
    "formula with quoted spaced digits": lambda n: '="+' + "1 " * n + '"x',
    "scientific without an exponent": lambda n: "1" * n + "e",
    "scientific with separators": lambda n: "1." * n + "E",
    "digits then a dot": lambda n: "1" * n + ".",
    "spaced dashes": lambda n: "+1 - " * n,
    "dashes before a plus": lambda n: "-" + " " * n + "x" + "-+",
    "plus dropped": lambda n: "1" * n + ".0x",
}
IT = NumberChecker("IT")


def per_character(check: Callable[[str], object], text: str, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            check(text)
        except ValueError:
            pass
        best = min(best, time.perf_counter() - start)
    return best / len(text)


def growth(check: Callable[[str], object], make: Callable[[int], str]) -> float:
    """How much the time per character grows from SMALL to LARGE (1 for linear, 16 for quadratic)."""
    per_character(check, make(SMALL))  # warm up
    return per_character(check, make(LARGE)) / per_character(check, make(SMALL))


def validate_one(text: str) -> list:
    return list(validate([RawEntry(2, text)], IT, max_range=100_000))


@pytest.mark.parametrize("check", [spreadsheet_hint, IT.check, split_entry, validate_one],
                         ids=["spreadsheet_hint", "NumberChecker.check", "split_entry", "validate"])
@pytest.mark.parametrize("kind", ADVERSARIAL)
def test_time_per_character_stays_flat_as_adversarial_cells_grow(check, kind):
    ratio = growth(check, ADVERSARIAL[kind])
    assert ratio < FLAT, f"{kind}: time per character grew {ratio:.1f}x from {SMALL:,} to {LARGE:,} characters"


def shared_string_xlsx(text: str) -> bytes:
    """The smallest workbook whose Number cell is one shared string: the issue's 1,704-byte file."""
    return minimal_xlsx([b'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'],
                        f'<si><t>Number</t></si><si><t xml:space="preserve">{text}</t></si>', compresslevel=9)


def timed_import(chat, data: bytes):
    start = time.process_time()
    reply = chat.say(f"import {ROMA}", files=(("numbers.xlsx", data),))
    return time.process_time() - start, reply


@pytest.mark.parametrize("spaces", [64_000, 30_000], ids=["over Excel's cell limit", "under it"])
def test_the_issues_small_workbook_is_answered_as_promptly_as_a_plain_one(chat, spaces):
    hostile = shared_string_xlsx("=1" + " " * spaces + "x")
    assert len(hostile) < 2_000
    before = snapshot(chat.services.db)
    plain_seconds, plain = timed_import(chat, shared_string_xlsx("+390212345678"))
    assert "**1** valid number" in plain.markdown
    chat.say("cancel")
    hostile_seconds, reply = timed_import(chat, hostile)
    check_reply(reply)
    if spaces > 32_767:
        assert "Row 2, column A: the cell holds more than 32,767 characters" in reply.markdown
        assert snapshot(chat.services.db).uploads == before.uploads + 1  # only the plain one
    else:
        assert "row 2" in reply.markdown and "too long to be a phone number (30,003 characters)" in reply.markdown
    assert hostile_seconds < 5 * max(plain_seconds, 0.01), (hostile_seconds, plain_seconds)
