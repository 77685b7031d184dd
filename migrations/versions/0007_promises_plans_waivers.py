"""Promises that resolve, installment plans, late-fee waivers, refunds and reversals.

Promises move to their own table module and gain made_on (payments from that day count
towards them), resolved_on, plan_id/seq (installments) and created_by. Units carry the
promise a row shows with its status, the plan's status, broken promises in a row and
the late fee waived in fen (the old yes/no flag is gone: no unit had it set). Payments
may be negative (refunds) and name the payment they reverse. Policies gain the promise
grace, the installment count, the late-fee cap and pause, and the broken-promise step.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'installment_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('made_on', sa.Date(), nullable=False),
        sa.Column('total_fen', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('status', _enum('plan_status', 'on_track', 'behind', 'completed', 'cancelled'),
                  nullable=False),
        sa.CheckConstraint('total_fen > 0', name=op.f('ck_installment_plan_positive')),
        sa.ForeignKeyConstraint(['created_by'], ['user.id'],
                                name=op.f('fk_installment_plan_created_by_user')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'],
                                name=op.f('fk_installment_plan_unit_id_unit')),
        sa.ForeignKeyConstraint(['visit_id'], ['visit.id'],
                                name=op.f('fk_installment_plan_visit_id_visit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_plan')),
    )
    op.create_index(op.f('ix_installment_plan_unit_id'), 'installment_plan', ['unit_id'])
    op.create_table(
        'waiver',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('requested_by', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', _enum('waiver_status', 'pending', 'approved', 'declined'),
                  nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.CheckConstraint('amount_fen > 0', name=op.f('ck_waiver_positive')),
        sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_waiver_decided_by_user')),
        sa.ForeignKeyConstraint(['requested_by'], ['user.id'],
                                name=op.f('fk_waiver_requested_by_user')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_waiver_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waiver')),
    )
    op.create_index(op.f('ix_waiver_unit_id'), 'waiver', ['unit_id'])
    op.create_index('ix_waiver_status', 'waiver', ['status', 'requested_at'])

    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('made_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('resolved_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_promise_plan_id_installment_plan'),
                                    'installment_plan', ['plan_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_promise_created_by_user'), 'user',
                                    ['created_by'], ['id'])
        batch_op.create_index(batch_op.f('ix_promise_plan_id'), ['plan_id'])
        batch_op.create_index('ix_promise_unit_due', ['unit_id', 'due_date'])
    # A promise made at the door counts payments from the day of its visit.
    op.execute("UPDATE promise SET made_on = (SELECT CAST(visit.created_at AS DATE) FROM visit "
               "WHERE visit.id = promise.visit_id) WHERE made_on IS NULL")
    op.execute("UPDATE promise SET made_on = CAST(created_at AS DATE) WHERE made_on IS NULL")
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.alter_column('made_on', existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_fee_waived_fen', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('promise_status', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('plan_status', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('broken_promises_in_row', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.drop_column('late_fee_waived')
    op.execute("UPDATE unit SET promise_status = 'open' WHERE next_promise_date IS NOT NULL")

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverses_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payment_reverses_id_payment'), 'payment',
                                    ['reverses_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_payment_positive'), type_='check')
        batch_op.create_check_constraint('nonzero', 'amount_fen <> 0')
        batch_op.create_check_constraint('reversal_negative',
                                         'reverses_id IS NULL OR amount_fen < 0')

    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promise_grace_days', sa.Integer(), nullable=False,
                                      server_default='3'))
        batch_op.add_column(sa.Column('max_installments', sa.Integer(), nullable=False,
                                      server_default='12'))
        batch_op.add_column(sa.Column('plan_pauses_late_fee', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('late_fee_cap_ppm', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('broken_promise_steps', sa.Integer(), nullable=False,
                                      server_default='1'))


def downgrade():
    with op.batch_alter_table('policy', schema=None) as batch_op:
        for name in ('broken_promise_steps', 'late_fee_cap_ppm', 'plan_pauses_late_fee',
                     'max_installments', 'promise_grace_days'):
            batch_op.drop_column(name)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payment_reversal_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_payment_nonzero'), type_='check')
        batch_op.create_check_constraint('positive', 'amount_fen > 0')
        batch_op.drop_constraint(batch_op.f('fk_payment_reverses_id_payment'), type_='foreignkey')
        batch_op.drop_column('reverses_id')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_fee_waived', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        for name in ('broken_promises_in_row', 'plan_status', 'promise_status',
                     'late_fee_waived_fen'):
            batch_op.drop_column(name)
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_unit_due')
        batch_op.drop_index(batch_op.f('ix_promise_plan_id'))
        batch_op.drop_constraint(batch_op.f('fk_promise_created_by_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_promise_plan_id_installment_plan'),
                                 type_='foreignkey')
        for name in ('created_by', 'resolved_on', 'made_on', 'seq', 'plan_id'):
            batch_op.drop_column(name)
    op.drop_index('ix_waiver_status', table_name='waiver')
    op.drop_index(op.f('ix_waiver_unit_id'), table_name='waiver')
    op.drop_table('waiver')
    op.drop_index(op.f('ix_installment_plan_unit_id'), table_name='installment_plan')
    op.drop_table('installment_plan')
