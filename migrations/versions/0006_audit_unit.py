"""Audit events name their unit, and are indexed by unit and by user over time, so a
supervisor reads a unit's or a housekeeper's trail without a scan.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_audit_event_unit_id_unit', 'unit', ['unit_id'], ['id'])
        batch_op.create_index('ix_audit_unit_at', ['unit_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_user_at', ['user_id', 'at'], unique=False)
    # Earlier events carried the unit in their detail.
    audit = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('unit_id', sa.Integer),
                     sa.column('detail', sa.JSON))
    conn = op.get_bind()
    for event_id, detail in conn.execute(sa.select(audit.c.id, audit.c.detail)).all():
        unit_id = (detail or {}).get('unit_id')
        if isinstance(unit_id, int):
            conn.execute(audit.update().where(audit.c.id == event_id).values(unit_id=unit_id))


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_user_at')
        batch_op.drop_index('ix_audit_unit_at')
        batch_op.drop_constraint('fk_audit_event_unit_id_unit', type_='foreignkey')
        batch_op.drop_column('unit_id')
