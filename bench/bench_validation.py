"""Validation throughput: our fast path against a plain phonenumbers parse + is_valid_number loop.

SPEC §8 target: at least 2x the plain loop with identical verdicts.

    python -m bench.bench_validation [--n 200000] [--seed 1]

The corpus is what uploads look like: mostly valid E.164 from several countries, largely in
long consecutive ranges (the numbers of a range are validated one by one), about 5% invalid.
"""
from __future__ import annotations

import argparse
import random
import time
from typing import Callable

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from provisioning.numbers.e164 import NumberChecker, NumberError, is_valid_e164

COUNTRIES = ("IT", "US", "GB", "DE", "FR", "ES", "NL", "BR", "AU", "IN", "JP", "MX")
TARGET_RATIO = 2.0


def plain_verdict(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text))
    except phonenumbers.NumberParseException:
        return False


def _starts(country: str) -> list[int]:
    """Fixed-line and mobile example numbers of a country, as integers."""
    out = []
    for number_type in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
        example = phonenumbers.example_number_for_type(country, number_type)
        if example is not None:
            out.append(int(phonenumbers.format_number(example, PhoneNumberFormat.E164)[1:]))
    return out


def _spoil(e164: str, rng: random.Random) -> str:
    """A typical mistake: a digit lost or added, a wrong area code, an unknown country code."""
    kind = rng.randrange(4)
    if kind == 0:
        return e164[:-1]
    if kind == 1:
        return e164 + str(rng.randrange(10))
    if kind == 2:
        return e164[:4] + "0" + e164[5:]
    return "+99" + e164[3:]


def build_corpus(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """(country, e164) pairs: 60% in ranges of 100-5,000, 35% single numbers, 5% invalid."""
    rng = random.Random(seed)
    starts = {country: _starts(country) for country in COUNTRIES}
    corpus: list[tuple[str, str]] = []
    while len(corpus) < n * 0.60:
        country = rng.choice(COUNTRIES)
        first = rng.choice(starts[country]) + rng.randrange(0, 10_000, 100)
        corpus.extend((country, f"+{value}") for value in range(first, first + rng.randint(100, 5_000)))
    del corpus[int(n * 0.60):]
    while len(corpus) < n * 0.95:
        country = rng.choice(COUNTRIES)
        corpus.append((country, f"+{rng.choice(starts[country]) + rng.randrange(100_000)}"))
    while len(corpus) < n:
        country, e164 = rng.choice(corpus[: int(n * 0.95)])
        corpus.append((country, _spoil(e164, rng)))
    rng.shuffle(corpus)
    return corpus


def _timed(verdict: Callable[[str, str], bool], corpus: list[tuple[str, str]]) -> tuple[float, list[bool]]:
    started = time.perf_counter()
    verdicts = [verdict(country, e164) for country, e164 in corpus]
    return time.perf_counter() - started, verdicts


def run(n: int = 200_000, seed: int = 1) -> list[dict]:
    """Rows of name, value (numbers/s), unit, target and ratio to the plain loop; asserts equal verdicts."""
    corpus = build_corpus(n, seed)
    checkers = {country: NumberChecker(country) for country in COUNTRIES}

    def checked(country: str, e164: str) -> bool:
        try:
            checkers[country].check(e164)
        except NumberError:
            return False
        return True

    own_country = {country: f"+{checker.calling_code}" for country, checker in checkers.items()}
    candidates = {  # name: (verdict, its expected verdict given the plain loop's)
        "phonenumbers parse + is_valid_number (baseline)": (lambda _c, e164: plain_verdict(e164), None),
        "is_valid_e164 (fast path)": (lambda _c, e164: is_valid_e164(e164), None),
        "NumberChecker.is_valid_e164 (range numbers)": (lambda c, e164: checkers[c].is_valid_e164(e164), own_country),
        "NumberChecker.check (full check, reasons)": (checked, own_country),
    }
    warm_up = corpus[: min(2_000, n)]
    for verdict, _ in candidates.values():
        _timed(verdict, warm_up)  # load metadata and compile patterns outside the timing

    rows, baseline_seconds, plain = [], 0.0, []
    for name, (verdict, prefixes) in candidates.items():
        seconds, verdicts = _timed(verdict, corpus)
        if not rows:
            baseline_seconds, plain = seconds, verdicts
        # A checker also refuses numbers of another country than its service's, and (SPEC §2.1)
        # numbers of more than 15 digits, which libphonenumber accepts in a few plans (+49 800...).
        wanted = plain if prefixes is None else [
            valid and e164.startswith(prefixes[country]) and len(e164) <= 16
            for valid, (country, e164) in zip(plain, corpus)]
        assert verdicts == wanted, f"{name}: verdicts differ from the plain phonenumbers loop"
        row = {
            "name": name,
            "value": round(n / seconds),
            "unit": "numbers/s",
            "target": f">= {TARGET_RATIO:g}x baseline" if rows else None,
            "ratio": round(baseline_seconds / seconds, 2),
        }
        if rows:
            row["ok"] = row["ratio"] >= TARGET_RATIO
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="numbers in the corpus (default 200000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rows = run(args.n, args.seed)
    print(f"corpus: {args.n:,} numbers from {len(COUNTRIES)} countries, 60% in consecutive ranges, 5% spoilt; "
          f"verdicts identical to the plain loop")
    width = max(len(row["name"]) for row in rows)
    print(f"{'name':<{width}}  {'numbers/s':>12}  {'x baseline':>10}  target")
    for row in rows:
        print(f"{row['name']:<{width}}  {row['value']:>12,}  {row['ratio']:>10.2f}  {row['target'] or '-'}")


if __name__ == "__main__":
    main()
