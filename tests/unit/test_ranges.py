"""Ranges START-END: splitting the text, checking both ends, enumerating the numbers (SPEC §2.3)."""
from __future__ import annotations

import os

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from provisioning.numbers.e164 import NumberChecker, NumberError, is_valid_e164
from provisioning.numbers.ranges import (
    Entry,
    invalid_in_range,
    parse_entry,
    parse_range,
    split_entry,
)
from provisioning.settings import Settings

IT = NumberChecker("IT")
US = NumberChecker("US")


def reason(text: str, checker: NumberChecker = US, **kwargs) -> str:
    with pytest.raises(NumberError) as caught:
        parse_entry(text, checker, **kwargs)
    return caught.value.reason


# Arbitrary text, and text made of what numbers, ranges and spreadsheet cells are made of.
NUMBERISH_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="+0123456789 -–—().,=eE\"'＋０\u00a0", max_size=40),
)


def _valid_examples() -> list[str]:
    out = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None and phonenumbers.is_valid_number(example):
                out.add(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    return sorted(out)


VALID = _valid_examples()


# ---- Entry ----------------------------------------------------------------------------------

def test_single_entry():
    entry = Entry("+12127881500", "+12127881500")
    assert entry.count == 1
    assert list(entry.numbers()) == ["+12127881500"]


def test_entry_keeps_italian_leading_zero():
    assert list(Entry("+390212345678", "+390212345680").numbers()) == [
        "+390212345678", "+390212345679", "+390212345680"]


@pytest.mark.parametrize(("start", "end"), [("+12127881599", "+12127881500"), ("+1212788150", "+12127881500")])
def test_entry_refuses_a_broken_range(start, end):
    with pytest.raises(ValueError):
        Entry(start, end)


# ---- split_entry ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("+12127881500-1599", ("+12127881500", "1599")),
    ("+12127881500 - 1599", ("+12127881500", "1599")),
    ("+12127881500–1599", ("+12127881500", "1599")),
    ("+12127881500 — 1599", ("+12127881500", "1599")),
    ("+12127881500- 1599", ("+12127881500", "1599")),
    ("+12127881500-+12127881599", ("+12127881500", "+12127881599")),
    ("+1 212 788 1500 - +1 212 788 1599", ("+1 212 788 1500", "+1 212 788 1599")),
    ("+1-212-788-1500-1599", ("+1-212-788-1500", "1599")),
    ("+1-212-788-1500 - +1-212-788-1599", ("+1-212-788-1500", "+1-212-788-1599")),
    ("  +390212345678-99  ", ("+390212345678", "99")),
    ("+12127881500-", ("+12127881500", "")),
])
def test_split_range(text, expected):
    assert split_entry(text) == expected


@pytest.mark.parametrize("text", [
    "+12127881500",
    "+1-212-788-1500",
    "+1 (212) 788-1500",
    "+39 02-1234-5678",
    "+39 02 1234-5678",
    "+44 20-7946-0000",
    "+49 30 1234567-89",       # German extension style: itself a valid number
    "+1 - 212 - 788 - 1500",   # several spaced dashes: not a range separator
    "-",
    "",
])
def test_split_single(text):
    assert split_entry(text) == (text.strip(), None)


# ---- parse_range / parse_entry --------------------------------------------------------------

def test_us_range_of_100_numbers():
    entry = parse_entry("+12127881500-1599", US)
    assert (entry.start, entry.end, entry.count) == ("+12127881500", "+12127881599", 100)
    numbers = list(entry.numbers())
    assert numbers[0] == "+12127881500" and numbers[-1] == "+12127881599" and len(set(numbers)) == 100


def test_single_number_entry():
    assert parse_entry("+1 212 788 1500", US) == Entry("+12127881500", "+12127881500")


def test_single_number_reason_has_no_range_label():
    assert reason("+1 212 788 150") == "not a valid US number — US numbers have 10 digits after +1, this has 9"


@pytest.mark.parametrize(("end", "expected"), [
    ("1", "+12127881501"), ("99", "+12127881599"), ("+12127881599", "+12127881599"),
    ("+1 (212) 788-1599", "+12127881599"), ("2127881599", "+12127881599"),
])
def test_end_as_trailing_digits_or_in_full(end, expected):
    assert parse_range("+12127881500", end, US).end == expected


def test_range_in_italy_keeps_leading_zero():
    entry = parse_entry("+39 02 1234 5600 - 5699", IT)
    assert (entry.start, entry.end, entry.count) == ("+390212345600", "+390212345699", 100)


def test_trailing_digits_apply_to_the_normalised_start():
    entry = parse_entry("+44 (0)20 7946 0000 - 0099", NumberChecker("GB"))
    assert (entry.start, entry.end) == ("+442079460000", "+442079460099")


def test_invalid_start_says_which_end():
    assert reason("+1 212 188 1500 - 1599") == "range start: not a valid US number — check the area code and the digits"


def test_invalid_end_says_which_end():
    assert reason("+12127881500 - +1212788159") == (
        "range end: not a valid US number — US numbers have 10 digits after +1, this has 9")


def test_invalid_trailing_end_shows_how_it_was_read():
    assert reason("+12127881500 - 1x") == "range end: contains 'x' — type the number with plain digits and +"
    assert reason("+12129999950 - 0000049", US) == (
        "range end (read as +12120000049): not a valid US number — check the area code and the digits")


def test_end_longer_than_start():
    assert reason("+12127881500 - 121278815999") == (
        "range end has more digits than the start (12 and 11) — write END in full with + or only its last digits")


def test_end_as_long_as_start_without_plus():
    assert reason("+12127881500 - 12127881599") == (
        "range end: missing + sign — write +12127881599 or only the digits that change")


def test_missing_end():
    assert reason("+12127881500 -") == "range end is missing — write START-END, e.g. +12127881500-1599"


def test_full_end_longer_and_shorter():
    # Italian numbers vary in length, so both ends can be valid and still differ.
    assert reason("+39 021234 - +39 0212345678", IT) == (
        "range ends differ in length (+39021234 has 8 digits, +390212345678 has 12) — "
        "START and END need the same number of digits")
    assert reason("+39 0212345678 - +39 021234", IT) == (
        "range ends differ in length (+390212345678 has 12 digits, +39021234 has 8) — "
        "START and END need the same number of digits")


def test_backwards_range():
    assert reason("+12127881500-1499") == (
        "range runs backwards (+12127881500 to +12127881499) — write the lower number first")


def test_range_over_the_limit():
    assert reason("+12127881500-1599", max_range=99) == (
        "range of 100 numbers is over the limit of 99 — split it into smaller ranges")
    assert reason("+12127800000 - +12127900000") == (
        "range of 100,001 numbers is over the limit of 100,000 — split it into smaller ranges")
    assert parse_entry("+12127800000 - +12127899999", US).count == Settings.max_range


def test_range_end_in_another_country_names_the_expected_prefix():
    assert reason("+390212345600 - +442079460000", IT) == (
        "range end: wrong country — expected +39 (the service location is in IT)")
    assert reason("+442079460000 - 0099", IT) == (
        "range start: wrong country — expected +39 (the service location is in IT)")


def test_spreadsheet_damage_in_range_end():
    with pytest.raises(NumberError) as caught:
        parse_range("+12127881500", "1.21278816E+10", US)
    assert caught.value.reason.startswith("range end: number shown in scientific notation")


# ---- invalid_in_range -----------------------------------------------------------------------

def test_invalid_in_range_finds_the_invalid_numbers():
    entry = Entry("+12121999950", "+12122000049")  # exchange 199 is not valid in the NANP, 200 is
    invalid = list(invalid_in_range(entry, US))
    assert invalid == [f"+1212199{n:04d}" for n in range(9950, 10000)]


def test_invalid_in_range_of_valid_numbers_is_empty():
    assert list(invalid_in_range(parse_entry("+12127881500-1599", US), US)) == []


def test_invalid_in_range_agrees_with_phonenumbers():
    entry = Entry("+390212345000", "+390212346000")
    expected = [n for n in entry.numbers() if not phonenumbers.is_valid_number(phonenumbers.parse(n))]
    assert list(invalid_in_range(entry, IT)) == expected


# ---- properties -----------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(NUMBERISH_TEXT)
def test_property_parse_entry_raises_only_number_error(text):
    try:
        entry = parse_entry(text, IT)
    except NumberError as exc:
        assert exc.reason
    else:
        assert 1 <= entry.count <= Settings.max_range and IT.is_valid_e164(entry.start)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID), st.integers(min_value=1, max_value=2000))
def test_property_range_of_k_numbers(start, k):
    end = f"+{int(start[1:]) + k - 1}"
    assume(len(end) == len(start))
    entry = Entry(start, end)
    numbers = list(entry.numbers())
    assert entry.count == k == len(numbers)
    assert numbers == sorted(numbers) and len(set(numbers)) == k
    assert numbers[0] == start and numbers[-1] == end


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID), st.integers(min_value=0, max_value=999),
       st.sampled_from(["-", " - ", "–", " – ", "—", " — "]))
def test_property_split_round_trips_start_end(start, offset, separator):
    end = f"+{int(start[1:]) + offset}"
    assume(len(end) == len(start) and is_valid_e164(end))
    assert split_entry(f"{start}{separator}{end}") == (start, end)
    tail = end[min(len(os.path.commonprefix([start, end])), len(end) - 1):]  # the digits that change
    if separator.startswith(" ") or not is_valid_e164(start + tail):
        assert split_entry(f"{start}{separator}{tail}") == (start, tail)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_property_single_number_with_dashes_is_never_split(e164, data):
    cuts = data.draw(st.sets(st.integers(min_value=2, max_value=len(e164) - 1), max_size=5))
    dash = data.draw(st.sampled_from(["-", "–", "—"]))
    written = "".join(dash + char if index in cuts else char for index, char in enumerate(e164))
    assert split_entry(written) == (written, None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VALID))
def test_property_international_format_with_dashes_is_single(e164):
    written = phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.INTERNATIONAL).replace(" ", "-")
    assert split_entry(written) == (written, None)
