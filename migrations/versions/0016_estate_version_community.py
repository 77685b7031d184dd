"""The count of rule changes moves when a community is renamed too: a reused route
page names each building's community (fieldapp/models/estate_version.py).

Revision ID: 0016_estate_version_community
Revises: 0015_overdue_tally_log
Create Date: 2026-12-04
"""
from alembic import op


revision = '0016_estate_version_community'
down_revision = '0015_overdue_tally_log'
branch_labels = None
depends_on = None

BUMP = "UPDATE estate_version SET n = n + 1 WHERE id = 1"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE OR REPLACE TRIGGER estate_version_community AFTER INSERT OR "
                   "UPDATE OF name OR DELETE OR TRUNCATE ON community FOR EACH STATEMENT "
                   "EXECUTE FUNCTION estate_version_bump()")
        return
    for event, on in (("insert", "INSERT"), ("delete", "DELETE"), ("update", "UPDATE OF name")):
        op.execute(f"CREATE TRIGGER IF NOT EXISTS estate_version_community_{event} AFTER "
                   f"{on} ON community BEGIN {BUMP}; END")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER estate_version_community ON community")
        return
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER estate_version_community_{event}")
