"""Bulk writes: COPY on PostgreSQL, executemany on SQLite, and batches for large IN lists.

Uploads write up to a million rows; going through the ORM's unit of work (or even Core's
multi-row VALUES) costs several times more than the database needs.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.orm import Session

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, streamed (a million numbers never sit in one list)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert `rows` (tuples in `columns` order) into `table` in the session's transaction."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        statement = f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN'
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})',
                               rows if isinstance(rows, list) else list(rows))
