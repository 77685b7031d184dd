"""Units by number and contacts by name, for LIKE 'prefix%': a search over the whole
estate reads what matches off them instead of checking every overdue unit
(fieldapp/models/estate.py). SQLite's LIKE ignores letter case, so its indexes do;
PostgreSQL's compare characters (text_pattern_ops), not the collation's order.

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
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name, table, column in INDEXES:
        how = f'{column} text_pattern_ops' if postgresql else f'{column} COLLATE NOCASE'
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON {table} ({how})')


def downgrade():
    for name, _, _ in INDEXES:
        op.execute(f'DROP INDEX {name}')
