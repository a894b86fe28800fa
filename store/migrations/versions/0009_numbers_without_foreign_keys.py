"""numbers without foreign keys to services and uploads

On PostgreSQL the two per-row key checks were 5 of the 8 seconds a million-number submit took.
Numbers are written only by submit, from the upload it holds locked, for that upload's service;
services and uploads are never deleted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}
KEYS = (('service_id', 'services', 'CASCADE'), ('upload_id', 'uploads', None))


def _name(bind, column: str) -> str:
    return f"numbers_{column}_fkey" if bind.dialect.name == "postgresql" else f"fk_numbers_{column}"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('numbers', schema=None, naming_convention=NAMING) as batch_op:
        for column, _, _ in KEYS:
            batch_op.drop_constraint(_name(bind, column), type_='foreignkey')


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('numbers', schema=None, naming_convention=NAMING) as batch_op:
        for column, table, ondelete in KEYS:
            batch_op.create_foreign_key(_name(bind, column), table, [column], ['id'], ondelete=ondelete)
