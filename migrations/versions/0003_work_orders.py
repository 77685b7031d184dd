"""Complaints and repair work orders with their events and after-photos; the
unit's dunning hold and rectified summary.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('lift', 'leak', 'cleaning', 'security', 'greenery', 'parking', 'other', name='complaint_category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_complaint_created_by_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_complaint_unit_id_unit')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_complaint_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_complaint_client_uuid'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_unit_id'), ['unit_id'], unique=False)

    op.create_table('complaint_photo',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_photo_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_complaint_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('complaint_id', 'photo_id', name=op.f('pk_complaint_photo'))
    )
    with op.batch_alter_table('complaint_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_photo_photo_id'), ['photo_id'], unique=False)

    op.create_table('work_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('lift', 'leak', 'cleaning', 'security', 'greenery', 'parking', 'other', name='work_order_category', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'in_progress', 'closed', name='work_order_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('engineer_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('repair_notes', sa.String(length=2000), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('owner_satisfied', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_work_order_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['engineer_id'], ['user.id'], name=op.f('fk_work_order_engineer_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_work_order_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order')),
    sa.UniqueConstraint('complaint_id', name=op.f('uq_work_order_complaint_id'))
    )
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_engineer_id'), ['engineer_id'], unique=False)
        batch_op.create_index('ix_work_order_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('work_order_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_work_order_event_user_id_user')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_event_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_event'))
    )
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_event_work_order_id'), ['work_order_id'], unique=False)

    op.create_table('work_order_photo',
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_work_order_photo_photo_id_photo')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order.id'], name=op.f('fk_work_order_photo_work_order_id_work_order')),
    sa.PrimaryKeyConstraint('work_order_id', 'photo_id', name=op.f('pk_work_order_photo'))
    )
    with op.batch_alter_table('work_order_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_photo_photo_id'), ['photo_id'], unique=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        # Existing units have no work orders yet: none is on hold.
        batch_op.add_column(sa.Column('on_hold', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('rectified_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('rectified_at')
        batch_op.drop_column('on_hold')

    with op.batch_alter_table('work_order_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_photo_photo_id'))

    op.drop_table('work_order_photo')
    with op.batch_alter_table('work_order_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_event_work_order_id'))

    op.drop_table('work_order_event')
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_index('ix_work_order_unit_status')
        batch_op.drop_index(batch_op.f('ix_work_order_engineer_id'))

    op.drop_table('work_order')
    with op.batch_alter_table('complaint_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_photo_photo_id'))

    op.drop_table('complaint_photo')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_unit_id'))

    op.drop_table('complaint')
