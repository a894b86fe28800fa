"""Bulk writes and reads: COPY on PostgreSQL, executemany on SQLite, statistics after a bulk
write, and streamed reads of plain tuples.

Uploads write up to a million rows; going through the ORM's unit of work (or even Core's
multi-row VALUES) costs several times more than the database needs.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from sqlalchemy import Table, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, streamed (a million numbers never sit in one list)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence], *,
                fixed: dict[str, int] | None = None) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` in the session's transaction.

    `fixed` columns take the same integer in every row (an upload's id), so callers can pass the
    tuples they already have instead of building a million new ones.
    """
    fixed = fixed or {}
    names = ", ".join(f'"{name}"' for name in [*fixed, *columns])
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        head = tuple(fixed.values())
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            write = copy.write_row
            for row in rows:
                write(head + tuple(row) if head else row)
        return
    values = ", ".join([*(str(int(value)) for value in fixed.values()), *("?" for _ in columns)])
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({values})',
                               rows if isinstance(rows, list) else list(rows))


ANALYZE_AT_LEAST = 100_000  # rows written before PostgreSQL's statistics are refreshed


def refresh_statistics(session: Session, table: Table, written: int) -> None:
    """ANALYZE `table` on PostgreSQL after a bulk write of `written` rows, inside the transaction.

    The planner otherwise plans the next joins (conflict checks, submit, counts) for the table as
    it was before a million rows arrived: nested loops of a million index probes instead of one
    merge join. ANALYZE samples a fixed number of rows and counts the transaction's own. Its lock
    is held to the end of the transaction, so when another big preview holds it, this one goes on
    with the old statistics rather than wait.
    """
    if written < ANALYZE_AT_LEAST or session.connection().dialect.name != "postgresql":
        return
    try:
        with session.begin_nested():
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            session.execute(text(f'ANALYZE "{table.name}"'))
            session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    except OperationalError:
        pass  # rolled back to the savepoint, lock_timeout with it


FETCH = 10_000  # rows per round trip when streaming a query
_PARAMETER = re.compile(r"(?<=[\s(=<>,]):(\w+)")


def stream(session: Session, sql: str, params: dict, fetch: int = FETCH) -> Iterator[list[tuple]]:
    """The rows of `sql` as plain driver tuples, in lists of `fetch`, from a server-side cursor on
    PostgreSQL (SQLite's cursor steps through the table as it goes). Parameters are written
    `:name` after a space, `(`, `=`, `<`, `>` or `,`; the SQL holds no `%`.

    For million-row reads (exports, reports): no ORM or Row objects, nothing held but one list.
    """
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    driver = connection.connection.driver_connection
    if postgres:
        sql = _PARAMETER.sub(r"%(\1)s", sql)
    cursor = driver.cursor(name=f"stream_{uuid.uuid4().hex[:12]}") if postgres else driver.cursor()
    try:
        if postgres:
            cursor.itersize = fetch
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(fetch):
            yield rows
    finally:
        cursor.close()
