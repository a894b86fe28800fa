"""The schema choices behind the million-number figures (bench/bench_scale.py), checked on both
databases: `alembic check` compares neither collations nor a dropped key's absence the way we
rely on them, so these tests do."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from store.db import alembic_config, connect, current_revision, head_revision, make_engine
from tests.support.databases import postgres_database

SCALE_TABLES = ("numbers", "staged_numbers", "invalid_entries")


def test_bulk_tables_have_no_foreign_keys(db):
    inspector = inspect(db.engine)
    assert {table: inspector.get_foreign_keys(table) for table in SCALE_TABLES} == {t: [] for t in SCALE_TABLES}


def test_e164_columns_compare_bytes_on_postgresql(postgres_url):
    """(SQLite compares text byte by byte already.)"""
    engine = make_engine(postgres_url)
    with engine.connect() as conn:
        collations = dict(conn.execute(text(
            "SELECT table_name, collation_name FROM information_schema.columns "
            "WHERE column_name = 'e164' AND table_name IN ('numbers', 'staged_numbers')")).all())
    engine.dispose()
    assert collations == {"numbers": "C", "staged_numbers": "C"}


def test_staged_numbers_are_one_btree_on_sqlite(tmp_path):
    """(PostgreSQL keeps every table as a heap.)"""
    db = connect(f"sqlite:///{tmp_path / 'rowid.db'}")
    with db.engine.connect() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'staged_numbers'")).scalar()
        indexes = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                    "tbl_name = 'invalid_entries'")).scalars().all()
    db.dispose()
    assert sql.rstrip().endswith("WITHOUT ROWID")
    assert "ix_invalid_entries_upload_id" in indexes


def _round_trip(url: str) -> None:
    """Down to the revision before 0008 (whatever the chain is after a merge) and back up."""
    before = ScriptDirectory.from_config(alembic_config(None)).get_revision("0008").down_revision
    db = connect(url, auto_upgrade=True)
    try:
        command.downgrade(alembic_config(db.engine), before)
        assert current_revision(db.engine) == before
        assert inspect(db.engine).get_foreign_keys("staged_numbers")
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                assert "WITHOUT ROWID" not in conn.execute(text(
                    "SELECT sql FROM sqlite_master WHERE name = 'staged_numbers'")).scalar()
        command.upgrade(alembic_config(db.engine), "head")
        assert current_revision(db.engine) == head_revision()
        command.check(alembic_config(db.engine))
    finally:
        db.dispose()


def test_migrations_go_down_and_up_again_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'round-trip.db'}")


def test_migrations_go_down_and_up_again_on_postgresql():
    import psycopg

    try:
        with postgres_database("leadsbot_migrations", migrate=False) as url:
            _round_trip(url)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
