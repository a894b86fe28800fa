"""Phone numbers: normalise what operators type, explain precisely what is wrong, validate fast.

Validity is Google's libphonenumber metadata (through `phonenumbers`). A plain
`phonenumbers.parse` + `is_valid_number` costs tens of microseconds per number, too slow for
100,000-number ranges, so strings already in strict E.164 take a fast path that applies the
same metadata directly (see `is_valid_e164`). tests/unit/test_numbers_differential.py proves
both give the same verdict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata

from provisioning.errors import UserError
from provisioning.numbers.hints import is_national_form, missing_plus_hint
from provisioning.text import shown

MAX_DIGITS = 15  # ITU-T E.164: at most 15 digits after the +
# Longest text read as one number: 15 digits with room for spaces, dashes, brackets and invisible
# characters. Anything longer is refused before any pattern sees it, so no cell costs more than
# linear time however it is crafted (the patterns below cannot backtrack either).
MAX_NUMBER_CHARS = 100

# Mirrors of phonenumbers' private limits (_MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN).
_NSN_MIN_LENGTH = 2
_NSN_MAX_LENGTH = 17
_NON_GEO = "001"

# Characters people put inside numbers for readability; removed by `normalise`. The invisible
# ones (zero-width space, word joiner, BOM, bidi marks, soft hyphen) arrive with copy-paste
# from web pages and mail, and an operator cannot see them to delete them.
_SPACES = ("\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
           + "\u2028\u2029\u202f\u205f\u3000")  # everything str.isspace() knows
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphen-minus and its look-alikes
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_SEPARATORS = _SPACES + DASHES + _INVISIBLE + ".()"
_DELETE_SEPARATORS = str.maketrans("", "", _SEPARATORS)

# Possessive quantifiers (*+, ++): a failed match never retries how a run was split, e.g. the
# spaces of "=1      x" between `[0-9 ]` and `\s`, which made the formula pattern quadratic.
_SCIENTIFIC = re.compile(r"[+-]?+[0-9]++(?:[.,][0-9]++)?+[eE][+-]?+[0-9]++")
_PLUS_DROPPED = re.compile(r"([0-9]{8,15}+)(?:\.0++)?+")
_FORMULA_NUMBER = re.compile(r'=\s*+"?+\s*+\+?+([0-9][0-9 ]*+)\s*+"?+')
_PLAIN = re.compile(r"\+?+[0-9]*+")


class NumberError(UserError, ValueError):
    """Invalid number; `.reason` is the operator-facing text (no trailing period)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalise(text: str) -> str:
    """Strip the text and remove spaces (any Unicode space), dashes, dots and parentheses.

    Anything else is kept, so `NumberChecker.check` can name a stray character instead of
    silently guessing what a look-alike (fullwidth ＋, Arabic-Indic digits...) was meant to be.
    """
    return text.strip().translate(_DELETE_SEPARATORS)


def check_length(text: str, limit: int = MAX_NUMBER_CHARS) -> None:
    """NumberError for text far too long to be a number (or a range), before any pattern reads it."""
    if len(text) > limit:
        raise NumberError(f"too long to be a phone number ({len(text):,} characters) — write one number: "
                          f"+, country code and at most {MAX_DIGITS} digits")


def spreadsheet_hint(raw: str, country: str | None = None) -> str | None:
    """The reason text when a cell shows typical spreadsheet damage, else None.

    With the service's `country`, a dropped + gets the number it stands for (`hints`)."""
    cell = raw.strip()
    if cell.startswith("="):
        formula = _FORMULA_NUMBER.fullmatch(cell)
        if formula is None:
            return "cell holds a formula — type the number itself, starting with +, in a column formatted as Text"
        number = shown(formula.group(1).replace(" ", ""), 40)  # the group may end with spaces
        return f"cell turned into a formula — type an apostrophe before the + ('+{number}) or format the column as Text"
    if ("E" in cell or "e" in cell) and _SCIENTIFIC.fullmatch(cell):
        return ("number shown in scientific notation (column not formatted as Text) — "
                "format the Number column as Text and retype the number with the + sign")
    dropped = _PLUS_DROPPED.fullmatch(cell) if cell[:1].isdigit() else None
    if dropped:
        if country and is_national_form(dropped.group(1), country):
            return None  # a national number, not a dropped +: `NumberChecker.check` says so
        fix = missing_plus_hint(dropped.group(1), country) if country else f"write +{dropped.group(1)}"
        return f"missing + sign (the spreadsheet dropped it) — {fix} and format the column as Text"
    return None


def _bad_character_reason(text: str) -> str | None:
    """Names the first character that is neither an ASCII digit nor the leading +."""
    if _PLAIN.fullmatch(text):
        return None
    for index, char in enumerate(text):
        if "0" <= char <= "9" or (char == "+" and index == 0):
            continue
        if char == "+":
            return "contains a second + — write one + at the start, then digits only"
        if char.isascii() and char.isprintable():
            return f"contains '{char}' — type the number with plain digits and +"
        if char.isprintable():
            return f"contains '{char}' (U+{ord(char):04X}) — type the number with plain digits and +"
        return f"contains an invisible character (U+{ord(char):04X}) — retype the number with plain digits and +"
    return None


# ---- fast validation path -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Region:
    """One region's validity test: NSN length -> regex for "general desc AND some number type"."""

    leading_digits: re.Pattern[str] | None
    by_length: dict[int, re.Pattern[str]]

    def is_valid(self, nsn: str) -> bool:
        pattern = self.by_length.get(len(nsn))
        return pattern is not None and pattern.fullmatch(nsn) is not None


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything the fast path needs for one country calling code, compiled once."""

    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing of the main region
    has_transform: bool
    regions: tuple[_Region, ...]
    single_region: bool


_CALLING_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _type_descs(metadata: PhoneMetadata) -> list:
    """The number-type descriptions `_number_type_helper` tries, in its order."""
    descs = [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
             metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail, metadata.fixed_line]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    return [d for d in descs if d is not None and d.national_number_pattern]


def _applies(desc, length: int) -> bool:
    return not desc.possible_length or length in desc.possible_length


def _compile_region(metadata: PhoneMetadata | None, calling_code: int, region: str) -> _Region:
    """Fold `_number_type_helper(nsn) != UNKNOWN` into one regex per NSN length."""
    if metadata is None:
        return _Region(None, {})
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
    general = metadata.general_desc
    by_length: dict[int, re.Pattern[str]] = {}
    # is_valid_number_for_region refuses a region whose own code differs from the number's.
    if region == _NON_GEO or metadata.country_code == calling_code:
        if general is not None and general.national_number_pattern:
            types = _type_descs(metadata)
            for length in range(_NSN_MIN_LENGTH, _NSN_MAX_LENGTH + 1):
                alternatives = [d.national_number_pattern for d in types if _applies(d, length)]
                if _applies(general, length) and alternatives:
                    union = "|".join(f"(?:{p})" for p in alternatives)
                    by_length[length] = re.compile(rf"(?=(?:{general.national_number_pattern})\Z)(?:{union})")
    return _Region(leading, by_length)


@cache
def _plan(code: str) -> _Plan:
    calling_code = int(code)
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[calling_code]
    main_region = phonenumbers.region_code_for_country_code(calling_code)
    main = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, main_region)
    prefix = main.national_prefix_for_parsing if main is not None else None
    compiled = []
    for region in regions:
        if len(regions) == 1:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(calling_code, region)
        else:
            metadata = PhoneMetadata.metadata_for_region(region, None)
        compiled.append(_compile_region(metadata, calling_code, region))
    return _Plan(
        national_prefix=re.compile(prefix) if prefix else None,
        has_transform=bool(main is not None and main.national_prefix_transform_rule),
        regions=tuple(compiled),
        single_region=len(regions) == 1,
    )


def _split_calling_code(digits: str) -> str | None:
    """The leading country calling code, tried shortest first like phonenumbers does."""
    for size in (1, 2, 3):
        if digits[:size] in _CALLING_CODES:
            return digits[:size]
    return None


# Calling codes are 1-3 digits, so the first three digits decide the code: one lookup per number.
_CODE_BY_HEAD = {head: code for head in map(str, range(100, 1000)) if (code := _split_calling_code(head))}


def _nsn_verdict(plan: _Plan, nsn: str) -> bool | None:
    """Validity of a national significant number, or None when parse() would rewrite it."""
    if len(nsn) < _NSN_MIN_LENGTH:
        return False
    if plan.national_prefix is not None:
        match = plan.national_prefix.match(nsn)
        if match is not None and not _prefix_match_is_noop(match, plan.has_transform):
            return None  # parse() may strip a national prefix or carrier code here
    if len(nsn) > _NSN_MAX_LENGTH:
        return False
    if plan.single_region:
        pattern = plan.regions[0].by_length.get(len(nsn))
        return pattern is not None and pattern.fullmatch(nsn) is not None
    for region in plan.regions:  # _region_code_for_number_from_list, then validate that region
        if region.leading_digits is not None:
            if region.leading_digits.match(nsn):
                return region.is_valid(nsn)
        elif region.is_valid(nsn):
            return True
    return False


def _prefix_match_is_noop(match: re.Match[str], has_transform: bool) -> bool:
    """True when `_maybe_strip_national_prefix_carrier_code` would return the number unchanged."""
    if match.end():
        return False
    if not has_transform:
        return True
    groups = match.groups()
    return bool(groups) and groups[-1] is None


def _fast_verdict(e164: str) -> bool | None:
    """The verdict for strict "+digits" input, or None when only the general parser can tell."""
    digits = e164[1:]
    if e164[:1] != "+" or not digits.isdigit() or not digits.isascii():
        return None
    if len(digits) <= _NSN_MIN_LENGTH or digits[0] == "0":
        return False  # parse() raises: too short after the +, or no country code starts with 0
    code = _CODE_BY_HEAD.get(digits[:3])
    if code is None:
        return False
    return _nsn_verdict(_plan(code), digits[len(code):])


def _plain_verdict(text: str) -> bool:
    """The reference: phonenumbers' own parser and validator."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text))
    except NumberParseException:
        return False


def is_valid_e164(e164: str) -> bool:
    """Same verdict as `is_valid_number(parse(e164))` (False where parse raises), much faster
    for strict E.164; any other text goes through the general parser."""
    verdict = _fast_verdict(e164)
    return _plain_verdict(e164) if verdict is None else verdict


def _canonical(e164: str) -> str | None:
    """The E.164 libphonenumber reads from strict "+digits" text, or None if it is not valid.

    Only differs from the input where parse() drops a national prefix ("+44 (0)20..." -> +4420...).
    """
    verdict = _fast_verdict(e164)
    if verdict is not None:
        return e164 if verdict else None
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NumberChecker:
    """Validates numbers for one service location; built once per upload, used for every number."""

    def __init__(self, country: str):
        calling_code = phonenumbers.country_code_for_region(country.upper()) if isinstance(country, str) else 0
        if not calling_code:
            raise ValueError(f"unknown country {country!r}: expected an ISO 3166 alpha-2 code such as IT")
        self.country: str = country.upper()
        self.calling_code: int = calling_code
        self._code = str(calling_code)
        self._prefix = f"+{calling_code}"
        self._plan = _plan(self._code)
        metadata = PhoneMetadata.metadata_for_region(self.country)
        self._lengths: tuple[int, ...] = tuple(metadata.general_desc.possible_length) if metadata else ()

    def check(self, raw: str) -> str:
        """The normalised E.164 of `raw`, or NumberError naming what is wrong and the fix."""
        if not raw or not raw.strip():
            raise NumberError("empty number")
        check_length(raw)
        hint = spreadsheet_hint(raw, self.country)
        if hint:
            raise NumberError(hint)
        text = normalise(raw)
        if not text:
            raise NumberError("empty number")
        bad = _bad_character_reason(text)
        if bad is None and not text.startswith("+"):
            raise NumberError(f"missing + sign — {missing_plus_hint(text, self.country)}")
        if bad is not None:
            raise NumberError(bad)
        digits = text[1:]
        if not digits:
            raise NumberError(f"no digits after the + — write the full number, starting {self._prefix}")
        if len(digits) > MAX_DIGITS:
            raise NumberError(f"too long — at most {MAX_DIGITS} digits after +, this has {len(digits)}")
        if _split_calling_code(digits) != self._code:
            raise NumberError(f"wrong country — expected {self._prefix} (the service location is in {self.country})")
        canonical = _canonical(text)
        if canonical is None:
            raise NumberError(self._invalid_reason(len(digits) - len(self._code)))
        return canonical

    def strict(self, text: str) -> str | None:
        """`text` itself when it is already a valid E.164 of this service's country written strictly
        (+ and ASCII digits), else None and `check` tells why. The common cell of a big file takes
        this path: no hint, normalisation or character checks, just the metadata (same verdict)."""
        digits = text[1:]
        if (text[:1] == "+" and len(digits) <= MAX_DIGITS and digits.isdigit() and digits.isascii()
                and _CODE_BY_HEAD.get(digits[:3]) == self._code
                and _nsn_verdict(self._plan, digits[len(self._code):]) is True):
            return text
        return None

    def is_valid_e164(self, e164: str) -> bool:
        """Fast verdict, as `check` judges: valid, this service's country code, at most 15 digits."""
        return len(e164) <= MAX_DIGITS + 1 and e164.startswith(self._prefix) and is_valid_e164(e164)

    def _invalid_reason(self, nsn_length: int) -> str:
        what = f"not a valid {self.country} number"
        if self._lengths and not min(self._lengths) <= nsn_length <= max(self._lengths):
            low, high = min(self._lengths), max(self._lengths)
            expected = f"{low}" if low == high else f"{low} to {high}"
            return (f"{what} — {self.country} numbers have {expected} digits after {self._prefix}, "
                    f"this has {nsn_length}")
        return f"{what} — check the area code and the digits"

