"""What kind of number an E.164 number is (toll free, mobile, other), fast enough for 100,000 at once.

Webex wants `numberType` TOLLFREE for toll-free numbers, and mobile numbers cannot be added
with its numbers API at all (SPEC §5.2). libphonenumber decides both; asking it per number
costs a parse each, so the toll-free and mobile patterns of each calling code's main region
are compiled once and matched against the national significant number directly. Numbers of a
region sharing its calling code with the main one fall back to libphonenumber. The
differential test holds this to `phonenumbers.number_type` on every region's examples.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Literal

import phonenumbers
from phonenumbers import PhoneMetadata

Kind = Literal["TOLLFREE", "MOBILE", "DID"]


@cache
def _patterns(calling_code: int) -> tuple[re.Pattern | None, ...]:
    """(toll free, mobile, fixed line) patterns of the calling code's main region, or Nones."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ())
    if not regions:
        return None, None, None
    region = regions[0]
    metadata = (PhoneMetadata.metadata_for_nongeo_region(calling_code) if region == "001"
                else PhoneMetadata.metadata_for_region(region))
    if metadata is None:
        return None, None, None

    def compiled(desc) -> re.Pattern | None:
        pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
        return re.compile(pattern) if pattern else None

    return compiled(metadata.toll_free), compiled(metadata.mobile), compiled(metadata.fixed_line)


def _split(e164: str) -> tuple[int, str] | None:
    digits = e164.removeprefix("+")
    for size in (1, 2, 3):
        head = digits[:size]
        if head.isdigit() and int(head) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return int(head), digits[size:]
    return None


def number_kind(e164: str) -> Kind:
    """TOLLFREE or MOBILE when libphonenumber says so, else DID (fixed-or-mobile counts as DID)."""
    split = _split(e164)
    if split is None:
        return "DID"
    toll_free, mobile, fixed = _patterns(split[0])
    nsn = split[1]
    if toll_free is not None and toll_free.fullmatch(nsn):
        return "TOLLFREE"
    is_fixed = fixed is not None and fixed.fullmatch(nsn) is not None
    if mobile is not None and mobile.fullmatch(nsn):
        return "DID" if is_fixed else "MOBILE"
    if not is_fixed and len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[split[0]]) > 1:
        return _slow_kind(e164)  # another region sharing the code (e.g. Jamaica in +1): ask libphonenumber
    return "DID"


def _slow_kind(e164: str) -> Kind:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return "DID"
    return {phonenumbers.PhoneNumberType.TOLL_FREE: "TOLLFREE",
            phonenumbers.PhoneNumberType.MOBILE: "MOBILE"}.get(kind, "DID")


def is_mobile(e164: str) -> bool:
    return number_kind(e164) == "MOBILE"


def mobile_test(country: str):
    """A fast `e164 -> is mobile` for numbers of one country (the service's location): the
    calling code is known, so only the patterns are matched (about a microsecond a number)."""
    calling_code = phonenumbers.country_code_for_region(country.upper())
    if not calling_code:
        return is_mobile
    _, mobile, fixed = _patterns(calling_code)
    skip = len(str(calling_code)) + 1
    shared = len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ())) > 1
    if mobile is None:
        return lambda e164: False

    def test(e164: str) -> bool:
        nsn = e164[skip:]
        if mobile.fullmatch(nsn) is None:
            return shared and (fixed is None or fixed.fullmatch(nsn) is None) and _slow_kind(e164) == "MOBILE"
        return fixed is None or fixed.fullmatch(nsn) is None

    return test
