"""inbox events ordered per space: a sequence, the space and the person, keyed by (resource, data.id)

Revision ID: 0007
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = "id, resource, event, payload, state, attempts, received_at, next_run_at, locked_by, locked_until, processed_at, error"


def _json(bind, path: str) -> str:
    """SQL reading `data.<path>` out of the stored envelope, on either database."""
    if bind.dialect.name == "postgresql":
        return f"(payload::json -> 'data' ->> '{path}')"
    return f"json_extract(payload, '$.data.{path}')"


def _set_aside(old: str, indexes: list[str]) -> None:
    """Rename the table and everything named after it, so the new table can take the names."""
    bind = op.get_bind()
    for index in indexes:
        op.drop_index(index, table_name='webhook_events')
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER INDEX webhook_events_pkey RENAME TO {old}_pkey")
    op.rename_table('webhook_events', old)


def upgrade() -> None:
    bind = op.get_bind()
    _set_aside('webhook_events_0005', ['ix_webhook_events_due'])
    op.create_table(
        'webhook_events',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=300), nullable=False),
        sa.Column('resource', sa.String(length=60), nullable=False),
        sa.Column('event', sa.String(length=60), nullable=False),
        sa.Column('room_id', sa.String(length=300), nullable=True),
        sa.Column('person_id', sa.String(length=300), nullable=True),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_by', sa.String(length=100), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('seq'),
        sa.UniqueConstraint('resource', 'id', name='uq_webhook_events_resource_id'),
    )
    op.execute(f"INSERT INTO webhook_events ({COLUMNS}, room_id, person_id) "
               f"SELECT {COLUMNS}, {_json(bind, 'roomId')}, {_json(bind, 'personId')} "
               f"FROM webhook_events_0005 ORDER BY received_at, id")
    op.drop_table('webhook_events_0005')
    op.create_index('ix_webhook_events_open', 'webhook_events', ['state', 'seq'], unique=False)
    op.create_index('ix_webhook_events_room', 'webhook_events', ['room_id', 'state', 'seq'], unique=False)
    op.create_index('ix_webhook_events_person', 'webhook_events', ['person_id', 'state'], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    _set_aside('webhook_events_0007', ['ix_webhook_events_person', 'ix_webhook_events_room', 'ix_webhook_events_open'])
    op.create_table(
        'webhook_events',
        sa.Column('id', sa.String(length=300), nullable=False),
        sa.Column('resource', sa.String(length=60), nullable=False),
        sa.Column('event', sa.String(length=60), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locked_by', sa.String(length=100), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    # One row per data.id again: a card action sharing a message's id is dropped.
    op.execute(f"INSERT INTO webhook_events ({COLUMNS}) SELECT {COLUMNS} FROM webhook_events_0007 "
               "WHERE seq IN (SELECT MIN(seq) FROM webhook_events_0007 GROUP BY id)")
    op.drop_table('webhook_events_0007')
    op.create_index('ix_webhook_events_due', 'webhook_events', ['state', 'next_run_at'], unique=False)
