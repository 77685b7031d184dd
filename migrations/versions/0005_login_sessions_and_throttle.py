"""Server-side sign-in sessions: sign-out, "sign out everywhere" and a password change
revoke them, and the session and remember cookies they name are refused from then on.
Cookies from before this revision name no session: everyone signs in once more.

The sign-in throttle counts per username and address, per device and per username
within a window: its keys change, so the old counts (per username) are dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_session_token_hash'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    op.execute(sa.table('login_throttle').delete())
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_started_at', sa.DateTime(timezone=True),
                                      nullable=False, server_default=sa.func.current_timestamp()))


def downgrade():
    op.execute(sa.table('login_throttle').delete())
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_column('window_started_at')

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))

    op.drop_table('login_session')
