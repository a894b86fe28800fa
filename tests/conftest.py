"""Shared fixtures: real databases (SQLite and PostgreSQL), never a mock.

Tests that take `db` or `db_url` run once per database in LEADSBOT_TEST_DATABASES
(default "sqlite,postgresql"). PostgreSQL comes from TEST_POSTGRES_URL (default: the
machine's server); each run gets its own freshly migrated database, emptied between tests.
"""
from __future__ import annotations

import os
import shutil
from contextlib import ExitStack

import pytest

from store.db import Database, connect
from tests.support.databases import PG_ADMIN_URL, empty_postgres, migrate_database, postgres_database

DATABASES = [d.strip() for d in os.environ.get("LEADSBOT_TEST_DATABASES", "sqlite,postgresql").split(",") if d.strip()]

pytest_plugins = ["tests.support.fakewebex.fixtures", "tests.support.live_fixtures"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """One migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate_database(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url():
    """A private, migrated PostgreSQL database for this test run, dropped at the end."""
    import psycopg

    with ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_database())
        except psycopg.OperationalError as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable in CI: {exc}")
            pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
        yield url


@pytest.fixture(params=DATABASES)
def db_url(request, tmp_path) -> str:
    """A URL of an empty, migrated database of each kind under test."""
    if request.param == "sqlite":
        path = tmp_path / "leadsbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        empty_postgres(url)
        return url
    raise ValueError(f"unknown test database {request.param!r}")


@pytest.fixture
def db(db_url) -> Database:
    database = connect(db_url, auto_upgrade=False)
    yield database
    database.dispose()
