"""organization_consents: live Service App consent per customer organization

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'organization_consents',
        sa.Column('org_id', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('consented_on', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('org_id'),
    )
    op.create_index('ix_organization_consents_due', 'organization_consents', ['state', 'next_check_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_organization_consents_due', table_name='organization_consents')
    op.drop_table('organization_consents')
