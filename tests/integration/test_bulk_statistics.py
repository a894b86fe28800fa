"""After a bulk write PostgreSQL's statistics are refreshed inside the writer's transaction, and a
lock held elsewhere never stops or spoils that transaction (store.bulk.refresh_statistics)."""
from __future__ import annotations

from sqlalchemy import func, select, text

from store.bulk import ANALYZE_AT_LEAST, bulk_insert, refresh_statistics
from store.models import StagedNumber
from tests.support.factories import e164s

TABLE = StagedNumber.__table__


def stage(session, upload_id: int, count: int) -> None:
    bulk_insert(session, TABLE, ("upload_id", "e164", "row"),
                [(upload_id, e164, row) for row, e164 in enumerate(e164s(count), start=2)])


def rows_planned_for(session) -> float | None:
    """The row count PostgreSQL's planner assumes for staged_numbers (set by ANALYZE)."""
    return session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'staged_numbers'")).scalar()


def test_a_bulk_write_is_analysed_in_its_own_transaction(db):
    with db.sessions.begin() as session:
        stage(session, 1, 300)
        refresh_statistics(session, TABLE, ANALYZE_AT_LEAST)
        if db.is_postgres:
            assert rows_planned_for(session) == 300  # the transaction's own rows counted
        stage(session, 2, 5)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StagedNumber)) == 305


def test_a_small_write_is_not_analysed(db):
    with db.sessions.begin() as session:
        stage(session, 1, 10)
        refresh_statistics(session, TABLE, ANALYZE_AT_LEAST - 1)
        assert session.scalar(select(func.count()).select_from(StagedNumber)) == 10


def test_a_table_locked_elsewhere_is_left_unanalysed_and_the_write_goes_on(db):
    with db.engine.connect() as other:
        if db.is_postgres:
            other.execute(text("LOCK TABLE staged_numbers IN SHARE UPDATE EXCLUSIVE MODE"))
        with db.sessions.begin() as session:
            stage(session, 1, 50)
            refresh_statistics(session, TABLE, ANALYZE_AT_LEAST)
            stage(session, 2, 50)
            if db.is_postgres:
                assert session.execute(text("SHOW lock_timeout")).scalar() == "0"
                assert rows_planned_for(session) != 50  # left as it was
        other.rollback()
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StagedNumber)) == 100
