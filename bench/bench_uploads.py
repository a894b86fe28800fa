"""Upload benchmark: a 100,000-row CSV previewed and submitted on SQLite and PostgreSQL.

Preview = parse the CSV + validate + duplicate check against a store that already holds
100,000 numbers of another service; submit = copy the staged numbers into `numbers`. The
baseline stores the same numbers the naive way, one ORM object per number. A 1,000,000-row
preview runs in a child process whose peak RSS is read from the kernel.

    python -m bench.bench_uploads [--rows 100000] [--big-rows 1000000] [--no-postgres]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import phonenumbers
from sqlalchemy import select

from bench.databases import on_each_database
from provisioning.access import switch_tenant
from provisioning.directory import Actor, resolve_actor
from provisioning.files.reader import read_rows
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from provisioning.uploads.options import UploadOptions
from provisioning.uploads.previews import preview
from provisioning.uploads.submission import submit
from store.db import Database, connect
from store.models import Number, StagedNumber, Upload

ROOT = Path(__file__).resolve().parent.parent

OPERATOR = "ops@acme.example"
OPTIONS = UploadOptions("CC-Default", "PSTN-Milan", "contact-center", "", "bench")


def csv_of(count: int, first: int = 220_000_000) -> bytes:
    """`count` valid Milan numbers (+3902 + 8 digits), one per row, with a header.

    Written in blocks, so making a million-row file does not itself dominate peak memory.
    """
    out = io.BytesIO()
    out.write(b"Number,Range End\n")
    for block in range(first, first + count, 10_000):
        end = min(block + 10_000, first + count)
        out.write("".join(f"+3902{n:08d},\n" for n in range(block, end)).encode())
    return out.getvalue()


def prepared(url: str) -> Database:
    db = connect(url, auto_upgrade=True)
    load_inventory_file(db, DEMO_INVENTORY, actor="bench")
    switch_tenant(db, OPERATOR, "Acme SP", "bench-room")
    return db


def operator(db: Database) -> Actor:
    with db.sessions() as session:
        return resolve_actor(session, OPERATOR)


def preview_csv(db: Database, data: bytes, service: str, settings: Settings):
    def entries():
        return read_rows(data, "bench.csv", max_rows=settings.max_rows, max_bytes=settings.max_file_bytes)

    return preview(db, operator(db), "bench-room", service, OPTIONS, entries, settings, source="file")


def submit_upload(db: Database, upload_id: int):
    return submit(db, operator(db), "bench-room", upload_id, settings=Settings())


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def naive_store(db: Database, numbers: list[str], upload_id: int, service_id: int) -> float:
    """Baseline: one ORM object per number, as a straightforward implementation would."""
    with db.sessions() as session:
        start = time.perf_counter()
        for e164 in numbers:
            session.add(Number(e164=e164, service_id=service_id, upload_id=upload_id, number_type="contact-center"))
        session.commit()
        return time.perf_counter() - start


def naive_preview(db: Database, data: bytes, upload_id: int) -> float:
    """Baseline: csv + a plain phonenumbers loop, one query per number, one ORM object per staged number."""
    start = time.perf_counter()
    with db.sessions() as session, session.no_autoflush:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        next(reader)
        for line, (number, _end) in enumerate(reader, start=2):
            try:
                parsed = phonenumbers.parse(number)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_valid_number(parsed) or parsed.country_code != 39:
                continue
            if session.scalar(select(Number.id).where(Number.e164 == number)) is None:
                session.add(StagedNumber(upload_id=upload_id, e164=number, row=line))
        session.flush()
        session.rollback()
    return time.perf_counter() - start


def run_database(label: str, url: str, rows: int) -> list[dict]:
    settings = Settings()
    db = prepared(url)
    existing = csv_of(rows, first=500_000_000)
    upload = preview_csv(db, existing, "roma-cx", settings)
    submit_upload(db, upload.upload_id)
    data = csv_of(rows)
    preview_seconds, summary = timed(preview_csv, db, data, "roma-cc", settings)
    assert summary.valid == rows, summary
    baseline_upload = preview_csv(db, csv_of(1, first=900_000_000), "roma-cc", settings)
    naive_preview_seconds = naive_preview(db, data, baseline_upload.upload_id)
    submit_seconds, stored = timed(submit_upload, db, summary.upload_id)
    assert stored.state == "submitted"
    naive_numbers = [f"+3902{700_000_000 + i:08d}" for i in range(rows)]
    with db.sessions() as session:
        service_id = session.get(Upload, baseline_upload.upload_id).service_id
    naive_seconds = naive_store(db, naive_numbers, baseline_upload.upload_id, service_id)
    db.dispose()
    return [
        {"name": f"preview {rows:,} rows ({label})", "value": preview_seconds, "unit": "s", "target": "<= 3 s",
         "baseline": naive_preview_seconds, "baseline_name": "plain loop, a query and an ORM object per number",
         "ok": preview_seconds <= 3},
        {"name": f"submit {rows:,} rows ({label})", "value": submit_seconds, "unit": "s", "target": "<= 3 s",
         "baseline": naive_seconds, "baseline_name": "one ORM object per number", "ok": submit_seconds <= 3},
    ]


def peak_rss_kb() -> int:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the parent
    through fork and exec, so a child of a big benchmark process would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def big_preview_child(rows: int) -> None:
    """Runs in a child process: preview a `rows`-row CSV on SQLite, print peak RSS and time."""
    with tempfile.TemporaryDirectory() as folder:
        db = prepared(f"sqlite:///{folder}/big.db")
        data = csv_of(rows, first=100_000_000)
        seconds, summary = timed(preview_csv, db, data, "roma-cc", Settings())
        del data
        print(json.dumps({"seconds": seconds, "valid": summary.valid, "peak_mb": peak_rss_kb() / 1024}))


def run_big(rows: int) -> list[dict]:
    output = subprocess.run([sys.executable, "-m", "bench.bench_uploads", "--child-big", str(rows)],
                            capture_output=True, text=True, check=True, cwd=ROOT).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["valid"] == rows
    return [
        {"name": f"preview {rows:,} rows: peak RSS", "value": result["peak_mb"], "unit": "MB", "target": "<= 300 MB",
         "baseline": None, "ok": result["peak_mb"] <= 300},
        {"name": f"preview {rows:,} rows: time", "value": result["seconds"], "unit": "s", "target": "(streamed)",
         "baseline": None, "ok": True},
    ]


def run(rows: int = 100_000, big_rows: int = 1_000_000, postgres: bool = True) -> list[dict]:
    results = on_each_database(run_database, "bench", rows, postgres)
    if big_rows:
        results += run_big(big_rows)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child-big", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_big:
        big_preview_child(args.child_big)
        return
    for row in run(args.rows, args.big_rows, not args.no_postgres):
        baseline = f"  baseline {row['baseline']:.3f} {row['unit']}" if row.get("baseline") else ""
        print(f"{row['name']:<45} {row['value']:>9.3f} {row['unit']:<3} target {row['target']:<10}{baseline}")


if __name__ == "__main__":
    main()
