"""number_history.e164 compared byte by byte (COLLATE "C") on PostgreSQL, like numbers.e164

Sync opens a metering stretch for each number that goes live, with a NOT EXISTS on the open
stretch of the same e164 (`metering.history.open_stretches`). Comparing numbers.e164 ("C") with
number_history.e164 (the database's locale) could not use the (e164, released_at) index, so
every batch scanned the whole history: syncing 100,000 numbers took six minutes of database
time on PostgreSQL. SQLite compares bytes already: nothing changes there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column('number_history', 'e164', type_=sa.String(length=16, collation='C'),
                    existing_type=sa.String(length=16), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column('number_history', 'e164', type_=sa.String(length=16),
                    existing_type=sa.String(length=16, collation='C'), existing_nullable=False)
