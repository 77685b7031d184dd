"""Imports from the billing system: a job per file (state, progress, bad rows and the
report, so that any worker answers a poll), the header names a community adds to the
built-in ones, and the billing system's customer id on contacts.

Revision ID: 0009_import
Revises: 0009_review
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_import'
down_revision = '0009_review'
branch_labels = None
depends_on = None

KINDS = ('buildings', 'units', 'contacts', 'bills', 'payments')


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'import_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('import_kind', *KINDS), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_as', sa.String(length=255), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('status', _enum('import_status', 'queued', 'running', 'done', 'rejected',
                                  'failed'), nullable=False),
        sa.Column('phase', sa.String(length=20), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('error_count', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_import_job_community_id_community')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'],
                                name=op.f('fk_import_job_created_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job')),
    )
    op.create_index('ix_import_job_created', 'import_job', ['created_at'])
    op.create_table(
        'header_alias',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('import_kind', *KINDS), nullable=False),
        sa.Column('field', sa.String(length=30), nullable=False),
        sa.Column('alias', sa.String(length=60), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_header_alias_community_id_community')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'],
                                name=op.f('fk_header_alias_created_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_header_alias')),
        sa.UniqueConstraint('community_id', 'kind', 'alias', name=op.f('uq_header_alias')),
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_contact_external_id'), ['external_id'])


def downgrade():
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_contact_external_id'), type_='unique')
        batch_op.drop_column('external_id')
    op.drop_table('header_alias')
    op.drop_index('ix_import_job_created', table_name='import_job')
    op.drop_table('import_job')
