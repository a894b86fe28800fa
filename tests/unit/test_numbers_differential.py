"""The fast E.164 path gives exactly the verdict of a plain phonenumbers parse + is_valid_number.

The corpus (about 200,000 strings) covers every country calling code in the metadata: every
example number of every type, its near misses (each digit changed, one digit more or less,
neighbours), random digits of every length after the +, national prefixes and carrier codes
after the code, leading zeros, and text that is not strict E.164 at all.
"""
from __future__ import annotations

import multiprocessing
import os
import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType, re_util

from provisioning.numbers.e164 import NumberChecker, NumberError, is_valid_e164

DIGITS = "0123456789"
CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def plain_verdict(text: str) -> bool:
    """The loop the fast path replaces; a parse failure counts as invalid."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text))
    except phonenumbers.NumberParseException:
        return False


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    """Every example number libphonenumber ships, for every region and non-geographic code."""
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                examples.append(example)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            examples.append(example)
    return examples


def near_misses(code: str, nsn: str, rng: random.Random) -> list[str]:
    """Strings one small edit away from a valid national significant number (every digit changed, dropped...)."""
    out = [nsn + rng.choice(DIGITS), rng.choice(DIGITS) + nsn]
    for position in range(len(nsn)):
        out.append(nsn[:position] + nsn[position + 1:])
        out.extend(nsn[:position] + digit + nsn[position + 1:] for digit in DIGITS)
    value = int(nsn)
    steps = [*range(-30, 31), *(sign * 10**power for power in range(2, 8) for sign in (-1, 1))]
    out.extend(str(value + step).zfill(len(nsn)) for step in steps if value + step >= 0)  # range neighbours
    out.extend(prefix + nsn for prefix in ("0", "00", "1", "8", "9", "15", "90"))  # national prefixes, carrier codes
    return [f"+{code}{rest}" for rest in out]


def national_prefix_cases(code: int, rng: random.Random) -> list[str]:
    """Numbers whose digits after the code begin with what parse() may strip."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, phonenumbers.region_code_for_country_code(code))
    prefixes = {p for p in (metadata.national_prefix, metadata.national_prefix_for_parsing) if p and p.isdigit()}
    prefixes.update({"0", "1", "8", "06", "0549", "10", "15"})
    out = []
    for prefix in sorted(prefixes):
        for length in range(2, 16):
            out.append(f"+{code}{prefix}{''.join(rng.choices(DIGITS, k=length))}")
    return out


def build_corpus(seed: int = 20261101) -> list[str]:
    rng = random.Random(seed)
    corpus: list[str] = []
    for example in example_numbers():
        code, nsn = str(example.country_code), phonenumbers.national_significant_number(example)
        corpus.append(f"+{code}{nsn}")
        corpus.extend(near_misses(code, nsn, rng))
    for code in CALLING_CODES:
        corpus.extend(national_prefix_cases(code, rng))
        for length in range(0, 18 - len(str(code))):
            corpus.extend(f"+{code}{''.join(rng.choices(DIGITS, k=length))}" for _ in range(12))
        corpus.extend(f"+{code}{zeros}{''.join(rng.choices(DIGITS, k=8))}" for zeros in ("0", "00", "000"))
    for length in range(1, 18):
        corpus.extend(f"+{''.join(rng.choices(DIGITS, k=length))}" for _ in range(1500))
    corpus.extend(f"+0{''.join(rng.choices(DIGITS, k=rng.randint(1, 14)))}" for _ in range(500))
    corpus.extend([
        "", "+", "++390212345678", "+39 02 1234 5678", "+1-212-788-1500", "390212345678",
        "+39０２12345678", "＋390212345678", "+390212345678 ext 12", "tel:+390212345678",
        "+390212345678;ext=1", "+39(0)212345678", "+" + "1" * 300, "+١٢١٢٧٨٨١٥٠٠", "+12127881500#",
    ])
    return list(dict.fromkeys(corpus))


def verdicts_side_by_side(corpus: list[str]) -> tuple[list[bool], list[bool]]:
    """(reference, fast) verdicts; the reference runs in forked workers meanwhile (they share the metadata)."""
    workers = min(8, os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [plain_verdict(text) for text in corpus], [is_valid_e164(text) for text in corpus]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending = pool.map_async(plain_verdict, corpus, chunksize=4000)
        fast = [is_valid_e164(text) for text in corpus]
        return pending.get(), fast


@pytest.fixture(scope="module")
def corpus_verdicts():
    """phonenumbers' own regex cache is on while the reference runs: same verdicts, less time."""
    corpus = build_corpus()
    previous = re_util._COMPILED_PATTERNS
    re_util.enable_pattern_cache()
    try:
        expected, fast = verdicts_side_by_side(corpus)
    finally:
        re_util._COMPILED_PATTERNS = previous
    return corpus, expected, fast


def test_fast_path_matches_plain_loop_on_large_corpus(corpus_verdicts):
    corpus, expected, fast = corpus_verdicts
    mismatches = [(text, want) for text, want, got in zip(corpus, expected, fast) if want != got]
    assert mismatches == []


def test_corpus_is_large_and_covers_both_verdicts_and_every_calling_code(corpus_verdicts):
    corpus, expected, _ = corpus_verdicts
    assert len(corpus) >= 200_000
    assert 0.05 < sum(expected) / len(corpus) < 0.95
    heads = {text[1:size] for text in corpus for size in (2, 3, 4)}
    assert {str(code) for code in CALLING_CODES} <= heads


def test_every_example_number_is_valid_in_both():
    for example in example_numbers():
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        assert is_valid_e164(e164) == plain_verdict(e164), e164


@settings(max_examples=600, deadline=None)
@given(code=st.sampled_from(CALLING_CODES), rest=st.text(alphabet=DIGITS, max_size=16))
def test_property_any_digits_after_a_known_code(code, rest):
    text = f"+{code}{rest}"
    assert is_valid_e164(text) == plain_verdict(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=DIGITS + "+ -().x０＋", max_size=20))
def test_property_any_text(text):
    assert is_valid_e164(text) == plain_verdict(text)


def _check_or_none(checker: NumberChecker, text: str) -> str | None:
    try:
        return checker.check(text)
    except NumberError:
        return None


@pytest.mark.parametrize("country", ["IT", "US", "GB", "DE", "BR", "AU"])
def test_strict_path_takes_only_what_check_returns_unchanged(corpus_verdicts, country):
    """`NumberChecker.strict` (the preview's fast path) returns a text only when `check` returns that same text."""
    corpus, _, _ = corpus_verdicts
    checker = NumberChecker(country)
    prefix = f"+{checker.calling_code}"
    taken = 0
    for text in (t for t in corpus if t.startswith(prefix) or t[:2] == "+0" or not t.startswith("+")):
        fast = checker.strict(text)
        if fast is not None:
            taken += 1
            assert fast == text == _check_or_none(checker, text), text
    assert taken > 100
