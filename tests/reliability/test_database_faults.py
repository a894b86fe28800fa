"""The database goes away in the middle of a submit, for real (no mocks).

PostgreSQL: the session's backend is killed with `pg_terminate_backend` from a second connection
at a chosen statement of the submit. SQLite: a second connection takes the write lock
(`BEGIN EXCLUSIVE`) while the bot's engine waits only briefly for it. Either way the operator is
told the database is unavailable and nothing changed, the upload is still a preview with its
staged numbers, and `submit` stores everything once the database is back.
"""
from __future__ import annotations

import logging
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import sessionmaker

from bot.bootstrap import build_services
from bot.shell import Shell
from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from store.db import Database
from store.models import Number, StagedNumber, Upload
from tests.reliability.conftest import DATABASE_DOWN, ROMA
from tests.support.chat import ADMIN, Chat

UPLOAD = f"upload {ROMA} +390212345600-699"


def is_insert_into_numbers(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO NUMBERS")


def is_delete_of_staged(statement: str) -> bool:
    return statement.lstrip().upper().startswith("DELETE FROM STAGED_NUMBERS")


def state(db: Database) -> tuple[int, str, int]:
    """(numbers stored, state of upload 1, its staged numbers)."""
    with db.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Number)),
                session.scalar(select(Upload.state).where(Upload.id == 1)),
                session.scalar(select(func.count()).select_from(StagedNumber).where(StagedNumber.upload_id == 1)))


def check_down_then_back(chat: Chat, fault: Callable[[], object]) -> None:
    """A preview of 100 numbers; submit under `fault` fails cleanly; submit again stores all 100."""
    assert "**100** valid numbers" in chat.say(UPLOAD).markdown
    with fault() as fired:
        reply = chat.say("submit")
    assert fired, "the fault was never injected"
    assert DATABASE_DOWN in reply.markdown and "reference `" in reply.markdown
    assert "Traceback" not in reply.markdown
    assert state(chat.services.db) == (0, "preview", 100)
    reply = chat.say("submit")
    assert "**100** numbers stored for `roma-cc`" in reply.markdown
    assert state(chat.services.db) == (100, "submitted", 0)


# ---- PostgreSQL: the backend is terminated -------------------------------------------------

def _terminate(engine_connection, admin_url: str) -> None:
    pid = engine_connection.connection.dbapi_connection.info.backend_pid
    with psycopg.connect(admin_url, autocommit=True) as admin:
        # The timeout makes the call wait until the backend has really gone.
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]


@contextmanager
def backend_killed_before(engine, admin_url: str, predicate: Callable[[str], bool]) -> Iterator[list[str]]:
    """Terminate the connection's backend just before the first statement matching `predicate`."""
    fired: list[str] = []

    def hook(conn, cursor, statement, parameters, context, executemany) -> None:
        if not fired and predicate(statement):
            fired.append(statement)
            _terminate(conn, admin_url)

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", hook)


@contextmanager
def backend_killed_before_commit(engine, admin_url: str) -> Iterator[list[str]]:
    """Terminate the backend after the numbers were inserted, just before COMMIT is sent."""
    inserted: list[object] = []
    fired: list[str] = []

    def after_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if is_insert_into_numbers(statement):
            inserted.append(conn)

    def before_commit(conn) -> None:
        if inserted and not fired and conn in inserted:
            fired.append("COMMIT")
            _terminate(conn, admin_url)

    event.listen(engine, "after_cursor_execute", after_execute)
    event.listen(engine, "commit", before_commit)
    try:
        yield fired
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)
        event.remove(engine, "commit", before_commit)


def admin_url(db: Database) -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("where", ["insert", "after-insert", "commit"])
def test_postgres_backend_killed_during_submit(make_chat, where):
    chat = make_chat()
    engine, url = chat.services.db.engine, admin_url(chat.services.db)
    faults = {
        "insert": lambda: backend_killed_before(engine, url, is_insert_into_numbers),
        "after-insert": lambda: backend_killed_before(engine, url, is_delete_of_staged),
        "commit": lambda: backend_killed_before_commit(engine, url),
    }
    check_down_then_back(chat, faults[where])


# ---- SQLite: another connection holds the write lock ---------------------------------------

def short_wait_database(url: str) -> Database:
    """The store's SQLite settings, but waiting 0.2 s for a lock instead of 30 s."""
    engine = create_engine(url, connect_args={"timeout": 0.2, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def tune(dbapi_connection, _record) -> None:
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=200"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    return Database(engine, sessionmaker(engine, expire_on_commit=False))


@contextmanager
def write_lock(path: str) -> Iterator[None]:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def sqlite_chat(db_url) -> Iterator[tuple[Chat, str]]:
    database = short_wait_database(db_url)
    load_inventory_file(database, DEMO_INVENTORY, actor="test")
    chat = Chat(Services(db=database, settings=Settings()))
    chat.say("tenant Acme SP")
    yield chat, database.engine.url.database
    database.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_locked_at_the_insert_of_a_submit(sqlite_chat):
    chat, path = sqlite_chat

    @contextmanager
    def locked_at_insert() -> Iterator[list[str]]:
        fired: list[str] = []
        locks = []

        def hook(conn, cursor, statement, parameters, context, executemany) -> None:
            if not fired and is_insert_into_numbers(statement):
                fired.append(statement)
                lock = write_lock(path)
                lock.__enter__()
                locks.append(lock)

        event.listen(chat.services.db.engine, "before_cursor_execute", hook)
        try:
            yield fired
        finally:
            event.remove(chat.services.db.engine, "before_cursor_execute", hook)
            for lock in locks:
                lock.__exit__(None, None, None)

    check_down_then_back(chat, locked_at_insert)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_locked_for_the_whole_command(sqlite_chat):
    chat, path = sqlite_chat

    @contextmanager
    def locked() -> Iterator[list[str]]:
        with write_lock(path):
            yield ["locked"]

    check_down_then_back(chat, locked)


# ---- PostgreSQL unreachable from the start -------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_postgres_gets_a_clear_answer_without_traceback(tmp_path, caplog):
    url = f"postgresql://postgres:pw@127.0.0.1:{closed_port()}/leadsbot"
    services = build_services(Settings(database_url=url))
    shell = Shell(services, ADMIN, tmp_path)
    with caplog.at_level(logging.DEBUG):
        for line in ("leads", "help", f"{UPLOAD}", "submit"):
            reply = shell.say(line)
            assert DATABASE_DOWN in reply.markdown, line
            assert "Traceback" not in reply.markdown and "127.0.0.1" not in reply.markdown
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(r.exc_info is None for r in errors)
    assert all("Connection refused" in r.getMessage() for r in errors)
    services.db.dispose()


def test_unreachable_postgres_in_the_cli_shell(tmp_path):
    env = {"DATABASE_URL": f"postgresql://postgres:pw@127.0.0.1:{closed_port()}/leadsbot", "PATH": "/usr/bin:/bin",
           "LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--as", ADMIN, "--files", str(tmp_path)],
                            input="leads\nsubmit\n", capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(DATABASE_DOWN) == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "database unavailable (reference" in result.stderr
