"""Typed entries (SPEC §2 rule 1) and the hints for numbers written without + (issue 12's exact inputs)."""
from __future__ import annotations

import pytest

from provisioning.numbers.e164 import NumberChecker, NumberError
from provisioning.numbers.validation import Invalid, Valid, entries_from_text, split_typed, validate

IT, US, GB = NumberChecker("IT"), NumberChecker("US"), NumberChecker("GB")


@pytest.mark.parametrize(("text", "entries"), [
    ("+39 3331234567,", ["+39 3331234567"]),
    ("+39 02 12345680, +39 06 1234567", ["+39 02 12345680", "+39 06 1234567"]),
    ("+1 212 788 1610-1619", ["+1 212 788 1610-1619"]),
    ("+1 212 788 1620 - +1 212 788 1629", ["+1 212 788 1620 - +1 212 788 1629"]),
    ("+1 (212) 788-1601 +1 212 788 1602", ["+1 (212) 788-1601", "+1 212 788 1602"]),
    ("+39 02 1234 5600, +39 06 1234567", ["+39 02 1234 5600", "+39 06 1234567"]),
    ("+390212345600;+390212345601\n0212345701\r\n3331234567",
     ["+390212345600", "+390212345601", "0212345701", "3331234567"]),
    ("+12127881500-+12127881599+12127881600", ["+12127881500-+12127881599", "+12127881600"]),
    (" , ;\n", []),
])
def test_entries_are_split_by_commas_semicolons_new_lines_and_the_next_plus(text, entries):
    assert split_typed(text) == entries


def results(text, checker):
    return list(validate(entries_from_text(text), checker, max_range=100_000))


def test_spaced_entries_from_the_issue_are_valid():
    found = results("+39 3331234567, +39 02 12345680, +39 06 1234567", IT)
    assert [r.e164 for r in found if isinstance(r, Valid)] == ["+393331234567", "+390212345680", "+39061234567"]
    assert not [r for r in found if isinstance(r, Invalid)]


@pytest.mark.parametrize("text", ["+1 212 788 1610-1619", "+1 212 788 1620 - +1 212 788 1629"])
def test_ranges_typed_with_spaces_are_one_range_of_ten(text):
    found = results(text, US)
    assert len([r for r in found if isinstance(r, Valid)]) == 10
    assert not [r for r in found if isinstance(r, Invalid)]


@pytest.mark.parametrize(("checker", "raw", "fix"), [
    (IT, "0212345701", "write it as +390212345701 (the IT number written in national form)"),
    (IT, "3331234567", "write it as +393331234567 (the IT number written in national form)"),
    (GB, "020 7123 4567", "write it as +442071234567 (the GB number written in national form)"),
    (US, "788-1601", "write the full number: +1 (the service location is in US) and 10 digits; "
                     "7881601 has 7 digits (the area code seems to be missing)"),
])
def test_hint_gives_the_right_e164_or_says_what_is_missing(checker, raw, fix):
    with pytest.raises(NumberError) as caught:
        checker.check(raw)
    assert caught.value.reason == f"missing + sign — {fix}"


@pytest.mark.parametrize(("checker", "raw"), [(IT, "0212345701"), (IT, "3331234567"), (US, "788-1601"),
                                              (IT, "390212"), (IT, "0039021234567890"), (US, "12127881500")])
def test_a_hint_never_suggests_a_number_that_is_not_valid_for_the_service(checker, raw):
    with pytest.raises(NumberError) as caught:
        checker.check(raw)
    suggested = [word.strip(",;()") for word in caught.value.reason.split() if word.startswith("+") and len(word) > 4]
    for e164 in suggested:
        assert checker.check(e164) == e164


def test_dropped_plus_in_a_spreadsheet_still_says_so():
    with pytest.raises(NumberError) as caught:
        IT.check("390212345701")
    assert caught.value.reason == ("missing + sign (the spreadsheet dropped it) — write it as +390212345701 "
                                   "and format the column as Text")
