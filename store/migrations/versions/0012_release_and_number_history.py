"""releases (uploads of kind "release", numbers' release_id) and number history for metering

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UPLOAD_OPTIONS = ('calling_profile_id', 'sip_connection_id')


def _set_options_nullable(nullable: bool) -> None:
    """A release has no calling profile or SIP connection. On SQLite this uses the procedure SQLite
    documents for dropping a NOT NULL ("Making Other Kinds Of Table Schema Changes"): rewriting the
    table would drop `uploads`, and with foreign keys on that deletes every staged number and report row."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        for column in UPLOAD_OPTIONS:
            op.alter_column('uploads', column, existing_type=sa.Integer(), nullable=nullable)
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type='table' AND name='uploads'").scalar()
    for column in UPLOAD_OPTIONS:
        strict, loose = f'{column} INTEGER NOT NULL', f'{column} INTEGER'
        sql = sql.replace(strict, loose) if nullable else sql.replace(f'{loose},', f'{strict},')
    version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
    bind.exec_driver_sql('PRAGMA writable_schema=ON')
    bind.exec_driver_sql("UPDATE sqlite_master SET sql=? WHERE type='table' AND name='uploads'", (sql,))
    bind.exec_driver_sql(f'PRAGMA schema_version={int(version) + 1}')
    bind.exec_driver_sql('PRAGMA writable_schema=OFF')


def upgrade() -> None:
    op.add_column('uploads', sa.Column('kind', sa.String(length=10), server_default='upload', nullable=False))
    op.add_column('uploads', sa.Column('released_count', sa.Integer(), server_default='0', nullable=False))
    _set_options_nullable(True)
    # No foreign key, like numbers' other references (0009): a release marks thousands of numbers at once.
    op.add_column('numbers', sa.Column('release_id', sa.Integer(), nullable=True))
    op.create_index('ix_numbers_release_id', 'numbers', ['release_id'], unique=False)
    op.create_table(
        'number_history',
        sa.Column('id', BigId, nullable=False),
        sa.Column('e164', sa.String(length=16), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('upload_id', sa.Integer(), nullable=True),
        sa.Column('release_id', sa.Integer(), nullable=True),
        sa.Column('number_type', sa.String(length=20), nullable=False),
        sa.Column('cac', sa.Integer(), nullable=True),
        sa.Column('service_info', sa.String(length=255), nullable=False),
        sa.Column('live_since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['release_id'], ['uploads.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_number_history_tenant_live', 'number_history', ['tenant_id', 'live_since'], unique=False)
    op.create_index('ix_number_history_tenant_released', 'number_history', ['tenant_id', 'released_at'], unique=False)
    op.create_index('ix_number_history_usage', 'number_history',
                    ['tenant_id', 'service_id', 'number_type', 'service_info', 'live_since', 'released_at', 'cac'],
                    unique=False)
    op.create_index('ix_number_history_e164_open', 'number_history', ['e164', 'released_at'], unique=False)
    op.create_index('ix_number_history_service_id', 'number_history', ['service_id'], unique=False)
    # Numbers already live: their stretch starts when the poll saw them live, else when they were stored.
    op.execute(
        "INSERT INTO number_history (e164, tenant_id, customer_id, service_id, upload_id, number_type, cac, "
        "service_info, live_since) "
        "SELECT n.e164, s.tenant_id, s.customer_id, n.service_id, n.upload_id, n.number_type, u.cac, "
        "u.service_info, COALESCE(n.live_at, n.created_at) "
        "FROM numbers n JOIN services s ON s.id = n.service_id JOIN uploads u ON u.id = n.upload_id "
        "WHERE n.sync_state = 'live'"
    )


def downgrade() -> None:
    op.drop_table('number_history')
    op.drop_index('ix_numbers_release_id', table_name='numbers')
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.drop_column('release_id')
    op.execute("DELETE FROM uploads WHERE kind = 'release'")
    _set_options_nullable(False)
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('kind')
        batch_op.drop_column('released_count')
