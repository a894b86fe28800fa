"""Engines and sessions for SQLite (default, zero set-up) and PostgreSQL (`DATABASE_URL`)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "leadsbot.db"
MIGRATIONS = Path(__file__).with_name("migrations")
SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}
SQLITE_BUSY_MS = 30000
PROMPT_POLL_SECONDS = 0.0005


class DatabaseConfigError(Exception):
    """The database cannot be used as configured; the message is one line saying what to do."""


def database_url(value: str | None = None) -> str:
    """The SQLAlchemy URL for `DATABASE_URL`: the usual postgres URLs select psycopg 3.

    Anything but SQLite or PostgreSQL is refused here, in words, before a driver is looked for."""
    url = value if value is not None else os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{Path(DEFAULT_SQLITE_FILE).resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        raise DatabaseConfigError("DATABASE_URL is not a database URL: use postgresql://USER:PASSWORD@HOST/DB "
                                  "or sqlite:///PATH (or leave it unset for a local SQLite file)") from None
    if driver not in SUPPORTED_DRIVERS:
        raise DatabaseConfigError(f"DATABASE_URL uses {driver.split('+')[0]!r}, which leadsbot does not support: "
                                  "use postgresql://… or sqlite:///…")
    return url


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(engine: Engine | None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations (the only way the schema changes)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def head_revision() -> str:
    """The revision the migrations in this release end at."""
    from alembic.script import ScriptDirectory

    config = alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


@dataclass
class Database:
    """An engine plus the session factory every operation opens its one session from."""

    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()

    def write_promptly(self, work: Callable[[Connection], object], patience: float = SQLITE_BUSY_MS / 1000):
        """Run `work` in a short write transaction that takes SQLite's write lock as soon as it is free.

        SQLite's own busy handler sleeps in growing steps (1, 2, 5 … up to 100 ms) between looks at
        a locked database, so a short insert waiting behind another writer can lose a tenth of a
        second after the lock was already free. For latency-bound writes (a webhook's record
        before its acknowledgement) this asks every half millisecond instead, for up to
        `patience` seconds. PostgreSQL has row locks and needs none of this."""
        if self.is_postgres:
            with self.engine.begin() as conn:
                return work(conn)
        deadline = time.monotonic() + patience
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.commit()
            try:
                while True:
                    try:
                        with conn.begin():
                            return work(conn)
                    except OperationalError as exc:
                        if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                            raise
                    time.sleep(PROMPT_POLL_SECONDS)
            finally:
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                conn.commit()


def check_schema(engine: Engine) -> None:
    """DatabaseConfigError unless the schema is at this release's revision (missing, behind, ahead)."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise DatabaseConfigError("the database has no leadsbot schema yet: run `leadsbot db upgrade`")
    raise DatabaseConfigError(f"the database schema is at revision {current}, this release needs {head}: "
                              "run `leadsbot db upgrade`")


def connect(url: str | None = None, *, auto_upgrade: bool | None = None, require_schema: bool = False) -> Database:
    """Open the database; SQLite files are created and migrated on first use.

    With `require_schema` (every command but `db upgrade`), a schema that is missing or behind
    is a DatabaseConfigError naming `leadsbot db upgrade` rather than a failing query later."""
    engine = make_engine(database_url(url))
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    if auto_upgrade:
        upgrade(engine)
    elif require_schema:
        try:
            check_schema(engine)
        except OperationalError:  # unreachable now: every use says so in one line when it happens
            pass
    return Database(engine, sessionmaker(engine, expire_on_commit=False))
