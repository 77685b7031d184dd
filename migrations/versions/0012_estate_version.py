"""A count of changes to the policies and the buildings' names and communities, kept by
triggers, so each app server keeps the rules it read until the count moves
(fieldapp/models/estate_version.py).

Revision ID: 0012_estate_version
Revises: 0011_route_id
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0012_estate_version'
down_revision = '0011_route_id'
branch_labels = None
depends_on = None

BUMP = "UPDATE estate_version SET n = n + 1 WHERE id = 1"
WATCHED = (("policy", "UPDATE"), ("building", "UPDATE OF name, community_id"))


def upgrade():
    bind = op.get_bind()
    # A PostgreSQL backup from before this revision, restored over a newer database
    # (pg_restore --clean), leaves this table standing: upgrading again keeps it.
    if not sa.inspect(bind).has_table('estate_version'):
        op.create_table(
            'estate_version',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('n', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_estate_version')))
    if bind.dialect.name == 'postgresql':
        op.execute("INSERT INTO estate_version (id, n) VALUES (1, 0) ON CONFLICT DO NOTHING")
        op.execute("CREATE OR REPLACE FUNCTION estate_version_bump() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$")
        for table, update in WATCHED:
            op.execute(f"CREATE OR REPLACE TRIGGER estate_version_{table} AFTER INSERT OR "
                       f"{update} OR DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION estate_version_bump()")
        return
    op.execute("INSERT OR IGNORE INTO estate_version (id, n) VALUES (1, 0)")
    for table, update in WATCHED:
        for event, on in (("insert", "INSERT"), ("delete", "DELETE"), ("update", update)):
            op.execute(f"CREATE TRIGGER IF NOT EXISTS estate_version_{table}_{event} AFTER "
                       f"{on} ON {table} BEGIN {BUMP}; END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table, _ in WATCHED:
            op.execute(f"DROP TRIGGER estate_version_{table} ON {table}")
        op.execute("DROP FUNCTION estate_version_bump()")
    else:
        for table, _ in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER estate_version_{table}_{event}")
    op.drop_table('estate_version')
