"""The units in arrears by amount, with what places each in its stage: the band order
over the whole estate walks down this index (fieldapp/route/estate.py, estate_hits)
instead of sorting every overdue unit for one page.

Revision ID: 0014_unit_arrears_index
Revises: 0013_overdue_tally
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0014_unit_arrears_index'
down_revision = '0013_overdue_tally'
branch_labels = None
depends_on = None

COLUMNS = [sa.text('arrears_fen DESC'), 'id', 'building_id', 'oldest_unpaid_due', 'on_hold',
           'promise_status', 'next_promise_date', 'plan_status', 'last_visit_at',
           'updated_at']


def upgrade():
    # If not there: an upgrade run again from an older stamp finds it standing.
    op.create_index('ix_unit_arrears', 'unit', COLUMNS, unique=False, if_not_exists=True,
                    sqlite_where=sa.text('arrears_fen > 0'),
                    postgresql_where=sa.text('arrears_fen > 0'))


def downgrade():
    op.drop_index('ix_unit_arrears', table_name='unit')
