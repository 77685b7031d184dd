"""Visits with their photos, promises and field-reported payments; the unit's
last-visit and next-promise summary.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user.id'], name=op.f('fk_photo_uploaded_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
    sa.UniqueConstraint('sha256', name=op.f('uq_photo_sha256'))
    )
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_uuid', sa.String(length=36), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('met_owner', 'met_occupant', 'nobody_home', 'refused', 'paid_on_site', 'promised', 'wrong_contact', 'vacant', name='outcome', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Enum('hardship', 'service', 'fee_dispute', 'refusal', 'forgot', 'tenant_landlord', 'neighbour', 'away', 'other', name='reason', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('service_category', sa.Enum('lift', 'leak', 'cleaning', 'security', 'greenery', 'parking', 'other', name='service_category', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('reason_detail', sa.String(length=500), nullable=False),
    sa.Column('notice_type', sa.Enum('none', 'reminder', 'payment_notice', 'demand_letter', 'lawyer_letter', name='notice_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('delivery', sa.Enum('handed', 'door', 'mailbox', 'registered_mail', name='delivery', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('notes', sa.String(length=2000), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('geo_error', sa.String(length=20), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('far_from_building', sa.Boolean(), nullable=False),
    sa.Column('review_status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_visit_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_visit_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_visit_client_uuid'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_unit_created', ['unit_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_user_id'), ['user_id'], unique=False)

    op.create_table('promise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'kept', 'broken', name='promise_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_promise_positive')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_promise_unit_id_unit')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_promise_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise'))
    )
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_unit_id'), ['unit_id'], unique=False)

    op.create_table('visit_photo',
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('client_meta', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_visit_photo_photo_id_photo')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_photo_visit_id_visit')),
    sa.PrimaryKeyConstraint('visit_id', 'photo_id', name=op.f('pk_visit_photo'))
    )
    with op.batch_alter_table('visit_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_photo_photo_id'), ['photo_id'], unique=False)

    op.create_table('field_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('confirmed_payment_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_field_payment_positive')),
    sa.ForeignKeyConstraint(['confirmed_payment_id'], ['payment.id'], name=op.f('fk_field_payment_confirmed_payment_id_payment')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_field_payment_unit_id_unit')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_field_payment_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_payment')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_field_payment_visit_id'))
    )
    with op.batch_alter_table('field_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_payment_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_visit_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_visit_outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('next_promise_date', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('next_promise_date')
        batch_op.drop_column('last_visit_outcome')
        batch_op.drop_column('last_visit_at')

    with op.batch_alter_table('field_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_payment_unit_id'))

    op.drop_table('field_payment')
    with op.batch_alter_table('visit_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_photo_photo_id'))

    op.drop_table('visit_photo')
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promise_unit_id'))

    op.drop_table('promise')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_user_id'))
        batch_op.drop_index('ix_visit_unit_created')

    op.drop_table('visit')
    op.drop_table('photo')
