"""PostgreSQL vacuums the unit table once 200 rows written stand dead instead of a
fifth of the table, so the route list's sorting keeps reading its index alone
(fieldapp/models/estate.py, UNIT_VACUUM). SQLite has no such setting. The downgrade
gives back PostgreSQL's defaults, not any values set by hand before.

Revision ID: 0019_unit_vacuum
Revises: 0018_search_prefix_indexes
Create Date: 2026-12-04
"""
from alembic import op


revision = '0019_unit_vacuum'
down_revision = '0018_search_prefix_indexes'
branch_labels = None
depends_on = None

# As the model gives them, at the time of this revision.
SETTINGS = {"autovacuum_vacuum_scale_factor": 0, "autovacuum_vacuum_threshold": 200}


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        given = ", ".join(f"{name} = {value}" for name, value in SETTINGS.items())
        op.execute(f"ALTER TABLE unit SET ({given})")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"ALTER TABLE unit RESET ({', '.join(SETTINGS)})")
