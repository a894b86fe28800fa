"""staging tables (staged_numbers, invalid_entries) without foreign keys to uploads

A preview bulk-writes up to a million staged numbers (or, re-uploading, a million report rows)
right after creating its upload; PostgreSQL checked the key for every row, which cost more than
the COPY itself. Only the preview owning an upload writes its rows; submit, cancel and expiry
remove them.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None

# SQLite's copy of each table gives the unnamed foreign keys of 0001 a name to drop them by.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}
TABLES = ('staged_numbers', 'invalid_entries')


def _name(bind, table: str) -> str:
    return f"{table}_upload_id_fkey" if bind.dialect.name == "postgresql" else f"fk_{table}_upload_id"


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, naming_convention=NAMING) as batch_op:
            batch_op.drop_constraint(_name(bind, table), type_='foreignkey')


def downgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE upload_id NOT IN (SELECT id FROM uploads)")
        with op.batch_alter_table(table, schema=None, naming_convention=NAMING) as batch_op:
            batch_op.create_foreign_key(_name(bind, table), 'uploads', ['upload_id'], ['id'], ondelete='CASCADE')
