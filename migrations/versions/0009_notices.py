"""Notices as issued (archived with SHA-256 and number), per-community notice templates,
the company-wide number counter, building batches, the owner's statement links, and the
issued notice a visit delivered.

Revision ID: 0009_notices
Revises: 0009_setup
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_notices'
down_revision = '0009_setup'
branch_labels = None
depends_on = None


def NOTICE_TYPE():
    return sa.Enum('none', 'reminder', 'payment_notice', 'demand_letter', 'lawyer_letter',
                   name='notice_type', native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table('notice_counter',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_notice_counter'))
    )
    op.create_table('notice_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', NOTICE_TYPE(), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_notice_template_community_id_community')),
    sa.ForeignKeyConstraint(['updated_by'], ['user.id'], name=op.f('fk_notice_template_updated_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_template')),
    sa.UniqueConstraint('community_id', 'kind', name='uq_notice_template')
    )
    op.create_table('notice_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_notice_batch_building_id_building')),
    sa.ForeignKeyConstraint(['issued_by'], ['user.id'], name=op.f('fk_notice_batch_issued_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_batch'))
    )
    with op.batch_alter_table('notice_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_batch_building_id'), ['building_id'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', NOTICE_TYPE(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('arrears_fen', sa.Integer(), nullable=False),
    sa.Column('late_fee_fen', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['notice_batch.id'], name=op.f('fk_notice_batch_id_notice_batch')),
    sa.ForeignKeyConstraint(['issued_by'], ['user.id'], name=op.f('fk_notice_issued_by_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_notice_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('number', name=op.f('uq_notice_number'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_unit_issued', ['unit_id', 'issued_at'], unique=False)

    op.create_table('statement_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_statement_link_created_by_user')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_statement_link_notice_id_notice')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_statement_link_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_statement_link_token_hash'))
    )
    with op.batch_alter_table('statement_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_link_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_visit_notice_id'), ['notice_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_visit_notice_id_notice'), 'notice', ['notice_id'], ['id'])



def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visit_notice_id_notice'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_visit_notice_id'))
        batch_op.drop_column('notice_id')

    with op.batch_alter_table('statement_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_link_unit_id'))

    op.drop_table('statement_link')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_unit_issued')

    op.drop_table('notice')
    with op.batch_alter_table('notice_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_batch_building_id'))

    op.drop_table('notice_batch')
    op.drop_table('notice_template')
    op.drop_table('notice_counter')
