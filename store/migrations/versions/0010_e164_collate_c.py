"""E.164 columns compared byte by byte (COLLATE "C") on PostgreSQL

With the database's locale collation a prefix search (`numbers +3902`, LIKE '+3902%') cannot use
the btree index, ORDER BY e164 sorts with locale rules, and every index insert compares with
them. "C" gives the same order for '+' and digits, and none of those costs. SQLite already
compares bytes: nothing changes there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('numbers', 'staged_numbers')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.alter_column(table, 'e164', type_=sa.String(length=16, collation='C'),
                        existing_type=sa.String(length=16), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.alter_column(table, 'e164', type_=sa.String(length=16), existing_type=sa.String(length=16, collation='C'),
                        existing_nullable=False)
