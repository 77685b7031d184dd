"""The route list's index includes the unit id on PostgreSQL: its sort and page read the
id, and without it every overdue unit of the patch was fetched from the table (1,210
heap reads for one page in bench/route_pg.py). SQLite's indexes carry the id as the
rowid already.

Revision ID: 0011_route_id
Revises: 0010_photo_bands
Create Date: 2026-12-02
"""
from alembic import op


revision = '0011_route_id'
down_revision = '0010_photo_bands'
branch_labels = None
depends_on = None

COLUMNS = ['building_id', 'oldest_unpaid_due', 'arrears_fen', 'on_hold', 'promise_status',
           'next_promise_date', 'plan_status', 'last_visit_at', 'updated_at', 'floor', 'number']


def _recreate(**options):
    op.drop_index('ix_unit_route', table_name='unit')
    op.create_index('ix_unit_route', 'unit', COLUMNS, unique=False, **options)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _recreate(postgresql_include=['id'])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _recreate()
