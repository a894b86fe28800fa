"""staging tables (staged_numbers, invalid_entries) without foreign keys to uploads

A preview bulk-writes up to a million staged numbers (or, re-uploading, a million report rows)
right after creating its upload; PostgreSQL checked the key for every row, which cost more than
the COPY itself. Only the preview owning an upload writes its rows; submit, cancel and expiry
remove them. On SQLite, staged_numbers is rebuilt WITHOUT ROWID (its key is then its only b-tree).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op

revision = '0008'
down_revision = '0006'
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
        # On SQLite staged_numbers becomes WITHOUT ROWID: its key is the only b-tree a preview writes.
        options = {"sqlite_with_rowid": False} if table == 'staged_numbers' else {}
        with op.batch_alter_table(table, schema=None, naming_convention=NAMING, table_kwargs=options) as batch_op:
            batch_op.drop_constraint(_name(bind, table), type_='foreignkey')


def downgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE upload_id NOT IN (SELECT id FROM uploads)")
        options = {"sqlite_with_rowid": True} if table == 'staged_numbers' else {}
        with op.batch_alter_table(table, schema=None, naming_convention=NAMING, table_kwargs=options) as batch_op:
            batch_op.create_foreign_key(_name(bind, table), 'uploads', ['upload_id'], ['id'], ondelete='CASCADE')
