"""The units on dunning hold in the order the route list's "repair pending" section
lists them, so a view of the whole estate reads them without passing every overdue
unit (fieldapp/models/estate.py, ix_unit_held).

Revision ID: 0017_unit_held_index
Revises: 0016_estate_version_community
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


revision = '0017_unit_held_index'
down_revision = '0016_estate_version_community'
branch_labels = None
depends_on = None

COLUMNS = ['building_id', 'floor', 'number', 'id', 'updated_at', 'arrears_fen',
           'oldest_unpaid_due']


def upgrade():
    op.create_index('ix_unit_held', 'unit', COLUMNS, unique=False, if_not_exists=True,
                    sqlite_where=sa.text('on_hold IS 1'),
                    postgresql_where=sa.text('on_hold IS true'))


def downgrade():
    op.drop_index('ix_unit_held', table_name='unit')
