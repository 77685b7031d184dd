"""The route list's index carries every column its sorting reads (stage dates, hold,
promise and plan, last visit, version, walking order), so PostgreSQL scans the index
alone and the page's rows are read by id for the page only.

Revision ID: 0009_route
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op


revision = '0009_route'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ['building_id', 'oldest_unpaid_due', 'arrears_fen', 'on_hold', 'promise_status',
           'next_promise_date', 'plan_status', 'last_visit_at', 'updated_at', 'floor', 'number']


def upgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_route')
        batch_op.create_index('ix_unit_route', COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_route')
        batch_op.create_index('ix_unit_route', ['building_id', 'oldest_unpaid_due',
                                                'arrears_fen'], unique=False)
