"""Set-up without a developer: policy versions, where a building's coordinates came
from, and temporary passwords.

Policies keep every change as a dated, append-only version (the one in force is copied
into `policy` and named by `policy.version_id`); each existing policy gets a first
version from the day of the upgrade, with its values as they are. Buildings say where
their coordinates came from and the address they were geocoded from. Users may have to
choose a new password before anything else.

Revision ID: 0009_setup
Revises: 0009_import
Create Date: 2026-12-08
"""
from datetime import date, datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0009_setup'
down_revision = '0009_import'
branch_labels = None
depends_on = None

RULES = ('bands', 'late_fee_grace_days', 'late_fee_daily_ppm', 'late_fee_cap_ppm',
         'gps_threshold_m', 'promise_horizon_days', 'promise_grace_days', 'max_installments',
         'plan_pauses_late_fee', 'broken_promise_steps')


def upgrade():
    op.create_table(
        'policy_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('bands', sa.JSON(), nullable=False),
        sa.Column('late_fee_grace_days', sa.Integer(), nullable=False),
        sa.Column('late_fee_daily_ppm', sa.Integer(), nullable=False),
        sa.Column('late_fee_cap_ppm', sa.Integer(), nullable=True),
        sa.Column('gps_threshold_m', sa.Integer(), nullable=False),
        sa.Column('promise_horizon_days', sa.Integer(), nullable=False),
        sa.Column('promise_grace_days', sa.Integer(), nullable=False),
        sa.Column('max_installments', sa.Integer(), nullable=False),
        sa.Column('plan_pauses_late_fee', sa.Boolean(), nullable=False),
        sa.Column('broken_promise_steps', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'],
                                name=op.f('fk_policy_version_community_id_community')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'],
                                name=op.f('fk_policy_version_created_by_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_version')),
    )
    op.create_index('ix_policy_version_community_from', 'policy_version',
                    ['community_id', 'valid_from'])
    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_policy_version_id_policy_version'),
                                    'policy_version', ['version_id'], ['id'])
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coordinates_source', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('geocoded_address', sa.String(length=200), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    _first_versions()


def _first_versions():
    """Each policy as it stands becomes its community's first version."""
    conn = op.get_bind()
    meta = sa.MetaData()
    policy = sa.Table('policy', meta, autoload_with=conn)
    version = sa.Table('policy_version', meta, autoload_with=conn)
    now, today = datetime.now(timezone.utc), date.today()
    for row in conn.execute(sa.select(policy)).mappings().all():
        new_id = conn.execute(version.insert().values(
            community_id=row['community_id'], valid_from=today, created_at=now, created_by=None,
            note='', **{k: row[k] for k in RULES})).inserted_primary_key[0]
        conn.execute(policy.update().where(policy.c.id == row['id']).values(version_id=new_id))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
    with op.batch_alter_table('building', schema=None) as batch_op:
        batch_op.drop_column('geocoded_address')
        batch_op.drop_column('coordinates_source')
    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_policy_version_id_policy_version'),
                                 type_='foreignkey')
        batch_op.drop_column('version_id')
    op.drop_index('ix_policy_version_community_from', table_name='policy_version')
    op.drop_table('policy_version')
