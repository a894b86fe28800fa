"""The fast number kinds (provisioning/numbers/metadata.py) agree with libphonenumber's number_type."""
from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from provisioning.numbers.metadata import mobile_test, number_kind

KINDS = {PhoneNumberType.TOLL_FREE: "TOLLFREE", PhoneNumberType.MOBILE: "MOBILE"}
TYPES = (PhoneNumberType.TOLL_FREE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
         PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP,
         PhoneNumberType.SHARED_COST, PhoneNumberType.UAN)


def examples():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                yield region, phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def expected(e164: str) -> str:
    return KINDS.get(phonenumbers.number_type(phonenumbers.parse(e164)), "DID")


def test_every_regions_examples_get_libphonenumbers_verdict():
    found = [(region, e164, number_kind(e164), expected(e164)) for region, e164 in examples()]
    assert len(found) > 1000
    assert [f for f in found if f[2] != f[3]] == []


def test_the_per_country_mobile_test_agrees_too():
    for region, e164 in examples():
        assert mobile_test(region)(e164) == (expected(e164) == "MOBILE"), (region, e164)


@pytest.mark.parametrize("e164, kind", [
    ("+39800123456", "TOLLFREE"), ("+393123456789", "MOBILE"), ("+390212345678", "DID"),
    ("+18002345678", "TOLLFREE"), ("+12015550123", "DID"), ("+18762101234", "MOBILE"),  # Jamaica shares +1
    ("+999123", "DID"),
])
def test_known_numbers(e164, kind):
    assert number_kind(e164) == kind
