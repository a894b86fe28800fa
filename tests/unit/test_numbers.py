"""Normalising, checking and explaining single phone numbers (SPEC §2.1, §2.2, §3)."""
from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from provisioning.errors import UserError
from provisioning.numbers.e164 import (
    NumberChecker,
    NumberError,
    is_valid_e164,
    normalise,
    spreadsheet_hint,
)

IT = NumberChecker("IT")
US = NumberChecker("US")


def reason(checker: NumberChecker, raw: str) -> str:
    with pytest.raises(NumberError) as caught:
        checker.check(raw)
    return caught.value.reason


# Arbitrary text, and text made of what numbers, ranges and spreadsheet cells are made of.
NUMBERISH_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="+0123456789 -–—().,=eE\"'＋０\u00a0", max_size=40),
)


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None and phonenumbers.is_valid_number(example):
                out.append((region, example))
    return out


EXAMPLES = _examples()


# ---- normalise ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "+39 02 1234 5678",
    "  +390212345678\t",
    "+39-02-1234-5678",
    "+39–02–1234—5678",
    "+39.02.1234.5678",
    "+39 (02) 1234 5678",
    "+39\u00a002\u00a012345678",        # no-break space
    "+39\u200902\u202f12345678",        # thin and narrow no-break space
    "+39\u200b0212345678\ufeff",        # zero-width space, BOM
])
def test_normalise_removes_separators(raw):
    assert normalise(raw) == "+390212345678"


def test_normalise_keeps_look_alikes_for_check_to_name():
    assert normalise("＋39 ０2") == "＋39０2"


def test_normalise_removes_every_unicode_space():
    spaces = "".join(chr(c) for c in range(0x10000) if chr(c).isspace())
    assert normalise(f"+39{spaces}02") == "+3902"


@given(st.text())
def test_property_normalise_is_idempotent(text):
    once = normalise(text)
    assert normalise(once) == once


# ---- spreadsheet hints ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["1.21278815E+10", "1,21278815E+10", " 3.90212E+11 ", "1.2e10"])
def test_hint_scientific_notation(raw):
    assert spreadsheet_hint(raw) == (
        "number shown in scientific notation (column not formatted as Text) — "
        "format the Number column as Text and retype the number with the + sign")


@pytest.mark.parametrize("raw", ["12127881500", "12127881500.0", " 390212345678 "])
def test_hint_plus_dropped(raw):
    digits = raw.strip().removesuffix(".0")
    assert spreadsheet_hint(raw) == (
        f"missing + sign (the spreadsheet dropped it) — write +{digits} and format the column as Text")


@pytest.mark.parametrize("raw", ["=+390212345678", "=390212345678", '="+390212345678"', "= +39 02 1234 5678"])
def test_hint_formula(raw):
    assert spreadsheet_hint(raw) == (
        "cell turned into a formula — type an apostrophe before the + ('+390212345678) or format the column as Text")


def test_hint_other_formula():
    assert spreadsheet_hint("=SUM(A1:A3)") == (
        "cell holds a formula — type the number itself, starting with +, in a column formatted as Text")


@pytest.mark.parametrize("raw", ["+390212345678", "1234567", "1234567890123456", "+39 02 1234 5678", "", "abc"])
def test_no_hint_for_other_text(raw):
    assert spreadsheet_hint(raw) is None


# ---- NumberChecker.check: valid numbers -----------------------------------------------------

def test_checker_knows_the_calling_code():
    assert (IT.country, IT.calling_code) == ("IT", 39)
    assert NumberChecker("us").country == "US"


@pytest.mark.parametrize("country", ["XX", "", "ITA", "001"])
def test_unknown_country_is_a_value_error(country):
    with pytest.raises(ValueError, match="unknown country"):
        NumberChecker(country)


def test_italian_leading_zero_is_kept():
    assert IT.check("+39 02 1234 5678") == "+390212345678"


def test_us_example():
    assert US.check("+1 (212) 788-1500") == "+12127881500"


def test_national_prefix_written_after_the_code_is_dropped():
    assert NumberChecker("GB").check("+44 (0)20 7946 0000") == "+442079460000"


def test_number_of_another_region_sharing_the_code_is_accepted():
    assert US.check("+1 416 555 0123") == "+14165550123"  # Toronto, NANP like the US


# ---- NumberChecker.check: every reason ------------------------------------------------------

@pytest.mark.parametrize("raw", ["", "   ", "--", "()"])
def test_empty(raw):
    assert reason(IT, raw) == "empty number"


def test_spreadsheet_hint_comes_before_other_checks():
    assert reason(US, "1.21278815E+10").startswith("number shown in scientific notation")
    assert reason(US, "12127881500").startswith("missing + sign (the spreadsheet dropped it)")
    assert reason(IT, "=+390212345678").startswith("cell turned into a formula")


def test_missing_plus():
    assert reason(IT, "39 02 1234 5678") == "missing + sign — write it as +390212345678"


@pytest.mark.parametrize("raw", ["390212", "0039021234567890"])
def test_missing_plus_without_a_valid_reading_says_what_is_missing(raw):
    assert reason(IT, raw).startswith("missing + sign — ") and "write it as" not in reason(IT, raw)
    assert "+39" in reason(IT, raw)


@pytest.mark.parametrize(("raw", "expected"), [
    ("＋390212345678", "contains '＋' (U+FF0B) — type the number with plain digits and +"),
    ("+39０212345678", "contains '０' (U+FF10) — type the number with plain digits and +"),
    ("+٣٩0212345678", "contains '٣' (U+0663) — type the number with plain digits and +"),
    ("+39O212345678", "contains 'O' — type the number with plain digits and +"),
    ("+390212345678 ext 5", "contains 'e' — type the number with plain digits and +"),
    ("+39/0212345678", "contains '/' — type the number with plain digits and +"),
    ("+39\x000212345678", "contains an invisible character (U+0000) — retype the number with plain digits and +"),
    ("+39+0212345678", "contains a second + — write one + at the start, then digits only"),
    ("39O2", "contains 'O' — type the number with plain digits and +"),
])
def test_bad_character_is_named(raw, expected):
    assert reason(IT, raw) == expected


def test_plus_alone():
    assert reason(IT, "+") == "no digits after the + — write the full number, starting +39"


def test_too_long():
    assert reason(IT, "+39 0212 3456 7890 12") == "too long — at most 15 digits after +, this has 16"


@pytest.mark.parametrize("raw", ["+12127881500", "+442079460000", "+3", "+999123456"])
def test_wrong_country_names_the_expected_prefix(raw):
    assert reason(IT, raw) == "wrong country — expected +39 (the service location is in IT)"


@pytest.mark.parametrize(("raw", "count"), [("+3902", 2), ("+39 1234", 4), ("+39 0212 3456 7890 1", 13)])
def test_not_valid_with_wrong_length(raw, count):
    assert reason(IT, raw) == f"not a valid IT number — IT numbers have 6 to 12 digits after +39, this has {count}"


def test_not_valid_with_single_length():
    assert reason(US, "+1 212 788 150") == "not a valid US number — US numbers have 10 digits after +1, this has 9"


def test_not_valid_pattern():
    assert reason(US, "+1 212 188 1500") == "not a valid US number — check the area code and the digits"


def test_number_error_is_a_value_error_and_a_user_error():
    with pytest.raises(NumberError) as caught:
        IT.check("+1")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, UserError)
    assert caught.value.reason == caught.value.message == str(caught.value)
    assert not caught.value.reason.endswith(".")


# ---- fast verdicts --------------------------------------------------------------------------

@pytest.mark.parametrize(("e164", "valid"), [
    ("+390212345678", True), ("+12127881500", True), ("+12121881500", False), ("+39", False),
    ("+0390212345678", False), ("390212345678", False), ("+39 02 1234 5678", True), ("", False),
    ("+4402079460000", True),  # phonenumbers drops the national prefix here, and so must we
    ("+80012345678", True),    # non-geographic (international freephone)
])
def test_module_is_valid_e164(e164, valid):
    assert is_valid_e164(e164) is valid


def test_checker_fast_verdict_requires_the_service_country():
    assert IT.is_valid_e164("+390212345678")
    assert not IT.is_valid_e164("+12127881500")
    assert not IT.is_valid_e164("+3902")


# ---- properties -----------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(NUMBERISH_TEXT, st.sampled_from(["IT", "US", "GB", "DE", "AR", "BR"]))
def test_property_check_raises_only_number_error(text, country):
    try:
        result = NumberChecker(country).check(text)
    except NumberError as exc:
        assert exc.reason and not exc.reason.endswith(".")
    else:
        assert result.startswith("+") and result[1:].isdigit() and is_valid_e164(result)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXAMPLES), st.integers(min_value=-500, max_value=500))
def test_property_check_returns_valid_e164_unchanged(example, delta):
    region, number = example
    e164 = f"+{number.country_code}{int(phonenumbers.national_significant_number(number)) + delta}"
    parsed = phonenumbers.parse(e164) if is_valid_e164(e164) else None
    assume(parsed is not None and phonenumbers.format_number(parsed, PhoneNumberFormat.E164) == e164)
    assert NumberChecker(region).check(e164) == e164


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXAMPLES), st.sampled_from([" ", "-", "\u00a0", "."]))
def test_property_written_with_separators_gives_the_e164(example, separator):
    region, number = example
    written = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL).replace(" ", separator)
    assert NumberChecker(region).check(written) == phonenumbers.format_number(number, PhoneNumberFormat.E164)
