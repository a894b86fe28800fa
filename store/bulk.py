"""Fast bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

Uploads write up to a million rows; going through the ORM's unit of work (or even Core's
multi-row VALUES) costs several times more than the database needs.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.orm import Session


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
