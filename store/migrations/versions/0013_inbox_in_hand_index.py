"""inbox: find the events in hand (leased) by index, for the claim's space and person checks

The claim now builds the set of spaces and persons with an event in hand once per search
(`state = 'pending' AND locked_until >= now`) instead of probing per candidate by person, so the
(person_id, state) index gives way to (state, locked_until).

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op

revision = '0013'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_webhook_events_person', table_name='webhook_events')
    op.create_index('ix_webhook_events_in_hand', 'webhook_events', ['state', 'locked_until'])


def downgrade() -> None:
    op.drop_index('ix_webhook_events_in_hand', table_name='webhook_events')
    op.create_index('ix_webhook_events_person', 'webhook_events', ['person_id', 'state'])
