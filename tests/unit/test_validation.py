"""The upload validation pipeline: entries in, valid numbers and named problems out."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.numbers.e164 import NumberChecker
from provisioning.numbers.validation import (
    DUPLICATE_REASON,
    Invalid,
    RawEntry,
    Tally,
    Valid,
    entries_from_text,
    validate,
)

IT = NumberChecker("IT")


def run(entries, max_range=100_000):
    tally = Tally()
    results = list(validate(entries, IT, max_range=max_range, tally=tally))
    return [r for r in results if isinstance(r, Valid)], [r for r in results if isinstance(r, Invalid)], tally


def test_singles_ranges_and_short_end():
    valid, invalid, tally = run([RawEntry(2, "+390212345600"), RawEntry(3, "+390212345610-619"),
                                 RawEntry(4, "+390212345620", "+390212345629")])
    assert len(valid) == 21 and not invalid
    assert [v.row for v in valid[:2]] == [2, 3] and valid[-1].e164 == "+390212345629"
    assert tally.entries == 3 and tally.valid == 21


def test_duplicates_are_reported_once_and_kept_once():
    valid, invalid, tally = run([RawEntry(1, "+390212345600-609"), RawEntry(2, "+390212345605"),
                                 RawEntry(3, "+390212345605"), RawEntry(4, "+39 02 1234 5606")])
    assert len(valid) == 10
    assert [(i.row, i.value) for i in invalid] == [(2, "+390212345605"), (4, "+390212345606")]
    assert all(i.reason == DUPLICATE_REASON for i in invalid) and tally.duplicates == 2


def test_bad_entries_name_the_row_and_do_not_block_good_ones():
    valid, invalid, _ = run([RawEntry(7, "390212345600"), RawEntry(8, "+390212345601"),
                             RawEntry(9, "+390212345699-600")])
    assert [v.e164 for v in valid] == ["+390212345601"]
    assert invalid[0].row == 7 and "missing + sign" in invalid[0].reason
    assert invalid[1].row == 9 and "backwards" in invalid[1].reason


def test_range_over_the_limit_is_one_invalid_entry():
    valid, invalid, _ = run([RawEntry(1, "+390212340000-0999")], max_range=500)
    assert not valid and len(invalid) == 1 and "500" in invalid[0].reason


def test_entries_typed_with_spaces_commas_and_spaced_ranges():
    text = "+39 02 1234 5678, +12127881500 - 1599 12127881500;+390212345600,+390212345601"
    assert [e.text for e in entries_from_text(text)] == [
        "+39 02 1234 5678", "+12127881500 - 1599 12127881500", "+390212345600", "+390212345601"]
    assert [e.row for e in entries_from_text("+390212345600 +390212345601")] == [1, 2]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=60))
def test_every_distinct_number_is_valid_once(suffixes):
    entries = [RawEntry(i, f"+3902123456{s:02d}") for i, s in enumerate(suffixes, start=1)]
    valid, invalid, tally = run(entries)
    assert sorted(v.e164 for v in valid) == sorted({f"+3902123456{s:02d}" for s in suffixes})
    repeated = {s for s in suffixes if suffixes.count(s) > 1}
    assert len(invalid) == len(repeated) == tally.duplicates


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=10))
def test_arbitrary_text_never_escapes_as_an_exception(texts):
    entries = [RawEntry(i, t) for i, t in enumerate(texts, start=1)]
    valid, invalid, tally = run(entries)
    assert tally.entries == len(texts)
    assert all(i.reason for i in invalid)
