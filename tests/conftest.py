"""Shared fixtures: real databases (SQLite and PostgreSQL), never a mock.

Tests that take `db` or `db_url` run once per database in LEADSBOT_TEST_DATABASES
(default "sqlite,postgresql"). PostgreSQL comes from TEST_POSTGRES_URL (default: the
machine's server); each run gets its own freshly migrated database, emptied between tests.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text

from store.db import Database, connect, make_engine, upgrade
from store.models import Base

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASES = [d.strip() for d in os.environ.get("LEADSBOT_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()]

pytest_plugins = ["tests.fakewebex.fixtures"]



def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """One migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


@pytest.fixture(scope="session")
def postgres_url():
    """A private, migrated PostgreSQL database for this test run, dropped at the end."""
    import psycopg

    try:
        admin = psycopg.connect(_psycopg_url(PG_ADMIN_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"leadsbot_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _empty_postgres(url: str) -> None:
    """DELETE and restart the sequences: the same clean slate as TRUNCATE, many times faster on tiny tables."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        for (sequence,) in conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")):
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request, tmp_path) -> str:
    """A URL of an empty, migrated database of each kind under test."""
    if request.param == "sqlite":
        path = tmp_path / "leadsbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _empty_postgres(url)
        return url
    raise ValueError(f"unknown test database {request.param!r}")


@pytest.fixture
def db(db_url) -> Database:
    database = connect(db_url, auto_upgrade=False)
    yield database
    database.dispose()
