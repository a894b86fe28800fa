"""The fix offered for a number written without its `+` (SPEC §2 rule 1): never a wrong number.

Digits without a `+` are either E.164 with the `+` dropped (`390212345701`) or the national form
used inside the service's country (`0212345701` in Italy). The hint names the full E.164 only
when libphonenumber confirms it is a valid number of the service's country, reading the digits
both ways (its national parsing drops a trunk prefix where the country has one: `020 7123 4567`
in GB is +442071234567); otherwise it says what is missing instead of guessing.
"""
from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata

from provisioning.text import shown


def _valid_e164(text: str, region: str | None, calling_code: int) -> str | None:
    """The E.164 of `text` read in `region` (None: text starts with +), if it is valid for `calling_code`."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if number.country_code != calling_code or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readings(digits: str, country: str) -> list[str]:
    """The valid E.164 numbers of `country` that `digits` (no +) can stand for: + dropped, or national form."""
    calling_code = phonenumbers.country_code_for_region(country)
    found: list[str] = []
    for text, region in ((f"+{digits}", None), (digits, country)):
        e164 = _valid_e164(text, region, calling_code)
        if e164 is not None and e164 not in found:
            found.append(e164)
    return found


def is_national_form(digits: str, country: str) -> bool:
    """Whether the only valid reading of `digits` is the national form (not E.164 with the + dropped)."""
    found = readings(digits, country.upper())
    return bool(found) and f"+{digits}" not in found


def missing_plus_hint(digits: str, country: str) -> str:
    """The text after "missing + sign — ": the right E.164, or what is missing from the digits."""
    country = country.upper()
    found = readings(digits, country)
    if len(found) == 1:
        national = found[0] != f"+{digits}"
        return f"write it as {found[0]}" + (f" (the {country} number written in national form)" if national else "")
    if found:
        return "write it in full: " + " or ".join(found) + ", whichever you meant"
    return _what_is_missing(digits, country)


def _what_is_missing(digits: str, country: str) -> str:
    calling_code = phonenumbers.country_code_for_region(country)
    if digits.startswith(str(calling_code)):
        return (f"{shown(digits, 40)} with a + would not be a valid {country} number either — write the full number: "
                f"+{calling_code}, the area code and the subscriber number")
    metadata = PhoneMetadata.metadata_for_region(country)
    lengths = sorted(metadata.general_desc.possible_length) if metadata else []
    local_only = set(metadata.general_desc.possible_length_local_only) if metadata else set()
    expected = ""
    if lengths:
        low, high = lengths[0], lengths[-1]
        expected = f"{low}" if low == high else f"{low} to {high}"
        expected = f" and {expected} digits"
    gap = " (the area code seems to be missing)" if len(digits) in local_only else ""
    return (f"write the full number: +{calling_code} (the service location is in {country}){expected}; "
            f"{shown(digits, 40)} has {len(digits)} digit{'s' if len(digits) != 1 else ''}{gap}")
