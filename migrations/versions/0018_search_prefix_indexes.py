"""Units by number and contacts by name for LIKE 'prefix%' on SQLite, whose LIKE
ignores letter case (so do the indexes): a search over the whole estate reads what
matches off them instead of checking every overdue unit (fieldapp/models/estate.py).
PostgreSQL checks each unit faster than it joins a broad match: nothing made there.

Revision ID: 0018_search_prefix_indexes
Revises: 0017_unit_held_index
Create Date: 2026-12-04
"""
from alembic import op


revision = '0018_search_prefix_indexes'
down_revision = '0017_unit_held_index'
branch_labels = None
depends_on = None

INDEXES = (('ix_unit_number_prefix', 'unit', 'number'),
           ('ix_contact_name_prefix', 'contact', 'name'))


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name, table, column in INDEXES:
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} COLLATE NOCASE)')


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name, _, _ in INDEXES:
        op.execute(f'DROP INDEX {name}')
