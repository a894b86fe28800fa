"""a digest subscription per (space, tenant); uploads indexed by state for preview expiry

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op

revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None

# SQLite's copy of the table gives the unnamed UNIQUE (room_id) of 0001 a name to drop it by.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _room_unique(bind) -> str:
    return "digest_subscriptions_room_id_key" if bind.dialect.name == "postgresql" else "uq_digest_subscriptions_room_id"


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('digest_subscriptions', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_room_unique(bind), type_='unique')
        batch_op.create_unique_constraint('uq_digest_subscriptions_room_tenant', ['room_id', 'tenant_id'])
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_state_created', ['state', 'created_at'], unique=False)


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_uploads_state_created')
    # One subscription per space again: keep the oldest of each space.
    op.execute("DELETE FROM digest_subscriptions WHERE id NOT IN "
               "(SELECT MIN(id) FROM digest_subscriptions GROUP BY room_id)")
    with op.batch_alter_table('digest_subscriptions', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint('uq_digest_subscriptions_room_tenant', type_='unique')
        batch_op.create_unique_constraint(_room_unique(bind), ['room_id'])
