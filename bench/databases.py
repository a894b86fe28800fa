"""Running one benchmark on each database: a SQLite file in a temporary folder, then (unless told
not to) a private PostgreSQL database at TEST_POSTGRES_URL."""
from __future__ import annotations

import tempfile
from collections.abc import Callable

from tests.support.databases import postgres_database


def on_each_database(run_database: Callable[[str, str, int], list[dict]], stem: str, size: int,
                     postgres: bool = True) -> list[dict]:
    """`run_database(label, url, size)`'s rows for SQLite, then PostgreSQL."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run_database("SQLite", f"sqlite:///{folder}/{stem}.db", size)
    if postgres:
        with postgres_database("leadsbot_bench") as url:
            rows += run_database("PostgreSQL", url, size)
    return rows
