"""Reviewing visit evidence: doubt flags per visit, supervisors' decisions, the
housekeeper's corrections with their photos, and each photo's perceptual hash in four
indexed bands (near-duplicates by index lookup). Visits gain the queue's index and one
by housekeeper and time, which replaces the index on user_id alone.

Nothing is backfilled: visits logged before this have no flags, and photos stored before
it no perceptual hash (their SHA-256 still finds the same file used twice). Every
operation here adds or drops a table, a nullable column or an index, so SQLite copies
no table.

Revision ID: 0009_review
Revises: 0009_route
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_review'
down_revision = '0009_route'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'visit_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('flag_kind', 'far', 'no_position', 'exif_old', 'exif_missing',
                                'duplicate_photo', 'near_duplicate', 'notice_no_photo',
                                'late_sync', 'fast_travel'), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=True),
        sa.Column('other_visit_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'],
                                name=op.f('fk_visit_flag_visit_id_visit')),
        sa.ForeignKeyConstraint(['other_visit_id'], ['visit.id'],
                                name=op.f('fk_visit_flag_other_visit_id_visit')),
        sa.ForeignKeyConstraint(['photo_id'], ['photo.id'],
                                name=op.f('fk_visit_flag_photo_id_photo')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_flag')),
    )
    op.create_index(op.f('ix_visit_flag_visit_id'), 'visit_flag', ['visit_id'])
    op.create_index('ix_visit_flag_kind', 'visit_flag', ['kind', 'visit_id'])

    op.create_table(
        'review_decision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('decision', _enum('review_decision', 'approve', 'send_back'), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_review_decision_user_id_user')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'],
                                name=op.f('fk_review_decision_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decision')),
    )
    op.create_index(op.f('ix_review_decision_visit_id'), 'review_decision', ['visit_id'])

    op.create_table(
        'visit_correction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_uuid', sa.String(length=36), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=2000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_visit_correction_user_id_user')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'],
                                name=op.f('fk_visit_correction_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_correction')),
        sa.UniqueConstraint('client_uuid', name=op.f('uq_visit_correction_client_uuid')),
    )
    op.create_index(op.f('ix_visit_correction_visit_id'), 'visit_correction', ['visit_id'])

    op.create_table(
        'correction_photo',
        sa.Column('correction_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('client_meta', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['correction_id'], ['visit_correction.id'],
                                name=op.f('fk_correction_photo_correction_id_visit_correction')),
        sa.ForeignKeyConstraint(['photo_id'], ['photo.id'],
                                name=op.f('fk_correction_photo_photo_id_photo')),
        sa.PrimaryKeyConstraint('correction_id', 'photo_id', name=op.f('pk_correction_photo')),
    )
    op.create_index(op.f('ix_correction_photo_photo_id'), 'correction_photo', ['photo_id'])

    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phash', sa.BigInteger(), nullable=True))
        for band in range(4):
            batch_op.add_column(sa.Column(f'phash_b{band}', sa.Integer(), nullable=True))
    for band in range(4):
        op.create_index(op.f(f'ix_photo_phash_b{band}'), 'photo', [f'phash_b{band}'])

    op.create_index('ix_visit_review_queue', 'visit', ['review_status', 'created_at', 'id'])
    op.create_index('ix_visit_user_created', 'visit', ['user_id', 'created_at'])
    op.drop_index(op.f('ix_visit_user_id'), table_name='visit')


def downgrade():
    op.create_index(op.f('ix_visit_user_id'), 'visit', ['user_id'])
    op.drop_index('ix_visit_user_created', table_name='visit')
    op.drop_index('ix_visit_review_queue', table_name='visit')
    for band in range(4):
        op.drop_index(op.f(f'ix_photo_phash_b{band}'), table_name='photo')
    with op.batch_alter_table('photo', schema=None) as batch_op:
        for band in range(4):
            batch_op.drop_column(f'phash_b{band}')
        batch_op.drop_column('phash')
    op.drop_index(op.f('ix_correction_photo_photo_id'), table_name='correction_photo')
    op.drop_table('correction_photo')
    op.drop_index(op.f('ix_visit_correction_visit_id'), table_name='visit_correction')
    op.drop_table('visit_correction')
    op.drop_index(op.f('ix_review_decision_visit_id'), table_name='review_decision')
    op.drop_table('review_decision')
    op.drop_index('ix_visit_flag_kind', table_name='visit_flag')
    op.drop_index(op.f('ix_visit_flag_visit_id'), table_name='visit_flag')
    op.drop_table('visit_flag')
