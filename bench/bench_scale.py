"""Million-number figures (SPEC §8): a 1,000,000-row CSV previewed and submitted, then searched,
exported and listed with 1,000,000 numbers stored, on SQLite and PostgreSQL.

Each database runs in its own child process, whose peak RSS (VmHWM) is read from the kernel:
preview and submit into an empty store; `numbers PREFIX` and `numbers SERVICE` (the reply, then
the full CSV export, each timed apart); `status SERVICE` and `leads`; the same file previewed
again (every row "already uploaded"); then a second 1,000,000-row file previewed and submitted
into the store that already holds the first million.

The naive baselines (a plain csv + phonenumbers loop with one query per number, one ORM object
per stored number, ORM objects for the export) would take minutes at a million rows: each is
measured on a tenth of the rows in the same run and scaled by ten, which flatters them if
anything (no cache or index grows with them).

    python -m bench.bench_scale [--rows 1000000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time

from sqlalchemy import select

from bench.bench_uploads import ROOT, csv_of, naive_preview, operator, peak_rss_kb, prepared, preview_csv, submit_upload
from provisioning.leads.listing import list_leads, service_report
from provisioning.numbers_export import export_to
from provisioning.numbers_management import search
from provisioning.settings import Settings
from provisioning.uploads.previews import invalid_report
from provisioning.uploads.submission import cancel
from store.db import Database
from store.models import Number, Upload
from tests.support.databases import postgres_database

PREVIEW_TARGET = SUBMIT_TARGET = 6.0
REPLY_TARGET = 0.3
EXPORT_TARGET = 4.0
MEMORY_TARGET_MB = 300
SAMPLE = 10  # naive baselines run on rows / SAMPLE and are scaled by SAMPLE


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    print(f"{getattr(fn, '__name__', fn)}: {seconds:.2f} s, peak {peak_rss_kb() / 1024:.0f} MB", file=sys.stderr)
    return seconds, result


def _best(fn, *args, repeat: int = 3) -> float:
    """Fastest of a few runs of a sub-second query (the caches warm as a user's second command would)."""
    return min(_timed(fn, *args)[0] for _ in range(repeat))


def _naive_submit(db: Database, count: int, upload_id: int) -> float:
    """One ORM object per number, rolled back."""
    with db.sessions() as session:
        service_id = session.get(Upload, upload_id).service_id
        start = time.perf_counter()
        for i in range(count):
            session.add(Number(e164=f"+3902{700_000_000 + i:08d}", service_id=service_id, upload_id=upload_id,
                               number_type="contact-center"))
        session.flush()
        seconds = time.perf_counter() - start
        session.rollback()
        return seconds


def _naive_export(db: Database, count: int) -> float:
    """ORM objects and their upload's settings, written with the csv module."""
    start = time.perf_counter()
    with db.sessions() as session:
        out = io.StringIO()
        writer = csv.writer(out)
        numbers = session.scalars(select(Number).where(Number.e164.startswith("+3902"))
                                  .order_by(Number.e164).limit(count)).all()
        for number in numbers:
            upload = session.get(Upload, number.upload_id)
            writer.writerow([number.e164, upload.service.name, upload.service.customer.name, number.number_type,
                             upload.cac or "", upload.calling_profile.name, upload.sip_connection.name,
                             upload.service_info, number.sync_state, number.created_at.isoformat()])
        out.getvalue().encode()
    return time.perf_counter() - start


def _naive_count(db: Database, prefix: str, count: int) -> float:
    """Counting in Python: every matching row fetched."""
    start = time.perf_counter()
    with db.sessions() as session:
        rows = session.execute(select(Number.e164, Number.sync_state).where(Number.e164.startswith(prefix))
                               .limit(count)).all()
        len(rows)
    return time.perf_counter() - start


def _export_seconds(db: Database, actor, query: str) -> tuple[float, int]:
    with tempfile.TemporaryFile() as out:
        seconds, _ = _timed(export_to, db, actor, query, out)
        return seconds, out.tell()


def scenario(url: str, rows: int, baselines: bool = True) -> dict:
    """Everything one database reports, run in this (child) process."""
    settings = Settings()
    db = prepared(url)
    actor = operator(db)
    figures: dict[str, float] = {}
    data = csv_of(rows, first=200_000_000)
    figures["preview"], summary = _timed(preview_csv, db, data, "roma-cc", settings)
    assert summary.valid == rows, summary
    figures["submit"], stored = _timed(submit_upload, db, summary.upload_id)
    assert stored.valid == rows
    for name, query in (("prefix", "+3902"), ("service", "roma-cc")):
        figures[f"{name}_reply"] = _best(search, db, actor, query)
        assert search(db, actor, query).total == rows
        figures[f"{name}_export"], size = _export_seconds(db, actor, query)
        assert size > 50 * rows
    figures["status"] = _best(service_report, db, actor, "roma-cc")
    figures["leads"] = _best(list_leads, db, actor)
    figures["reupload"], again = _timed(preview_csv, db, data, "roma-cc", settings)
    assert again.already == rows, again
    figures["report"], report = _timed(invalid_report, db, again)
    del report
    cancel(db, actor, "bench-room", again.upload_id, settings=settings)
    second = csv_of(rows, first=400_000_000)
    figures["preview_full"], summary = _timed(preview_csv, db, second, "roma-cc", settings)
    assert summary.valid == rows, summary
    figures["submit_full"], stored = _timed(submit_upload, db, summary.upload_id)
    del data, second
    figures["peak_mb"] = peak_rss_kb() / 1024
    if baselines:
        figures.update(_baselines(db, rows))
    db.dispose()
    return figures


def _baselines(db: Database, rows: int) -> dict[str, float]:
    figures = {}
    settings = Settings()
    sample = rows // SAMPLE
    baseline = preview_csv(db, csv_of(1, first=900_000_000), "roma-cc", settings)
    figures["naive_preview"] = SAMPLE * naive_preview(db, csv_of(sample, first=600_000_000), baseline.upload_id)
    figures["naive_submit"] = SAMPLE * _naive_submit(db, sample, baseline.upload_id)
    figures["naive_export"] = SAMPLE * _naive_export(db, sample)
    figures["naive_reply"] = SAMPLE * _naive_count(db, "+3902", sample)
    return figures


def _child(label: str, rows: int) -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.bench_scale", "--child", label, "--rows", str(rows)],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def _rows(label: str, rows: int, f: dict) -> list[dict]:
    n = f"{rows:,}"
    scaled = f"×{SAMPLE} of {rows // SAMPLE:,} rows"

    def row(name, key, target, baseline=None, baseline_name=None):
        return {"name": f"{name} ({label})", "value": f[key], "unit": "s", "target": f"<= {target:g} s",
                "baseline": f.get(baseline) if baseline else None, "baseline_name": baseline_name,
                "ok": f[key] <= target}

    return [
        row(f"preview {n} rows", "preview", PREVIEW_TARGET, "naive_preview",
            f"plain loop, a query and an ORM object per number, {scaled}"),
        row(f"submit {n} rows, empty store", "submit", SUBMIT_TARGET, "naive_submit",
            f"one ORM object per number, {scaled}"),
        row(f"preview {n} rows, {n} stored", "preview_full", PREVIEW_TARGET),
        row(f"submit {n} rows, {n} stored", "submit_full", SUBMIT_TARGET),
        row(f"preview {n} rows, all already uploaded", "reupload", PREVIEW_TARGET),
        row(f"`numbers +3902` reply, {n} match", "prefix_reply", REPLY_TARGET, "naive_reply",
            f"rows counted in Python, {scaled}"),
        row(f"`numbers +3902` export, {n} rows", "prefix_export", EXPORT_TARGET, "naive_export",
            f"ORM objects and the csv module, {scaled}"),
        row(f"`numbers roma-cc` reply, {n} match", "service_reply", REPLY_TARGET),
        row(f"`numbers roma-cc` export, {n} rows", "service_export", EXPORT_TARGET),
        {"name": f"invalid-rows report of that re-upload, {n} rows ({label})", "value": f["report"], "unit": "s",
         "target": "(sent with the preview)", "baseline": None},
        row("`status roma-cc`", "status", REPLY_TARGET),
        row("`leads`", "leads", REPLY_TARGET),
        {"name": f"peak RSS, all of the above ({label})", "value": f["peak_mb"], "unit": "MB",
         "target": f"<= {MEMORY_TARGET_MB} MB", "baseline": None, "ok": f["peak_mb"] <= MEMORY_TARGET_MB},
    ]


def run(rows: int = 1_000_000, postgres: bool = True) -> list[dict]:
    results = _rows("SQLite", rows, _child("sqlite", rows))
    if postgres:
        results += _rows("PostgreSQL", rows, _child("postgresql", rows))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-baselines", action="store_true", help="skip the naive baselines (minutes)")
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(scenario(f"sqlite:///{folder}/scale.db", args.rows, not args.no_baselines)))
        return
    if args.child == "postgresql":
        with postgres_database("leadsbot_bench") as url:
            print(json.dumps(scenario(url, args.rows, not args.no_baselines)))
        return
    for row in run(args.rows, not args.no_postgres):
        print(f"{row['name']:<60} {row['value']:>9.3f} {row['unit']:<3} target {row['target']}")


if __name__ == "__main__":
    main()
