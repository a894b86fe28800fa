"""All of SPEC §8 in one run: each figure, its target, and the naive baseline measured alongside.

    python -m bench.run            # full sizes (about ten minutes on 2 cores)
    python -m bench.run --quick    # small sizes, to check the benchmarks themselves run

Run from the repository root: the benchmarks share the tests' helpers (`tests.support`).

Prints a Markdown table. Performance is checked here, never by timed tests.
"""
from __future__ import annotations

import argparse
import importlib

FULL = {
    "bench_validation": {"n": 200_000},
    "bench_uploads": {"rows": 100_000, "big_rows": 1_000_000},
    "bench_webhooks": {"rate": 200, "seconds": 10, "burst": 2_000, "serve_burst": 300},
    "bench_sync": {"numbers": 100_000},
    "bench_release": {"numbers": 10_000},
    "bench_usage": {"numbers": 1_000_000},
    "bench_metrics": {"numbers": 1_000_000, "services": 200, "events": 10_000},
    "bench_scale": {"rows": 1_000_000},
}
QUICK = {
    "bench_validation": {"n": 20_000},
    "bench_uploads": {"rows": 5_000, "big_rows": 50_000},
    "bench_webhooks": {"rate": 50, "seconds": 3, "burst": 200, "serve_burst": 100},
    "bench_sync": {"numbers": 5_000},
    "bench_release": {"numbers": 500},
    "bench_usage": {"numbers": 20_000},
    "bench_metrics": {"numbers": 20_000, "services": 20, "events": 500},
    "bench_scale": {"rows": 20_000},
}


def ratio_of(row: dict) -> str:
    if row.get("ratio") is not None:
        return f"{row['ratio']:.1f}×"
    if row.get("baseline") and row.get("value"):
        return f"{row['baseline'] / row['value']:.1f}× faster"
    return ""


def verdict(row: dict) -> str:
    if "ok" not in row:
        return ""
    return "ok" if row["ok"] else "**MISSED**"


def fmt(value, unit: str) -> str:
    if value is None:
        return ""
    return f"{value:,.0f} {unit}" if abs(value) >= 1000 else f"{value:.3g} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only these bench modules")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    print("| figure | value | target | baseline | ratio | verdict |")
    print("|---|---|---|---|---|---|")
    for name, kwargs in plan.items():
        if args.only and name not in args.only:
            continue
        module = importlib.import_module(f"bench.{name}")
        for row in module.run(**kwargs):
            baseline = row.get("baseline")
            baseline_text = fmt(baseline, row["unit"]) if isinstance(baseline, (int, float)) else (baseline or "")
            if row.get("baseline_name"):
                baseline_text = f"{baseline_text} ({row['baseline_name']})"
            print(f"| {row['name']} | {fmt(row['value'], row['unit'])} | {row.get('target') or ''} | {baseline_text} "
                  f"| {ratio_of(row)} | {verdict(row)} |", flush=True)


if __name__ == "__main__":
    main()
