"""A log of changes to the tally, which PostgreSQL's triggers add rows to instead of
updating the tally's shared rows: a transaction held open (an import) no longer holds up
another's write to a unit counted under the same row, and two writers cannot deadlock on
two rows (fieldapp/models/overdue_tally.py). SQLite keeps adding to the tally directly.
The statements are this revision's, written out.

Revision ID: 0015_overdue_tally_log
Revises: 0014_unit_arrears_index
Create Date: 2026-12-04
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op


revision = '0015_overdue_tally_log'
down_revision = '0014_unit_arrears_index'
branch_labels = None
depends_on = None

POSTGRESQL = [
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_insert() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally_change (community_id, due, on_hold, '
    'units, arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, 1 AS '
    'units, arrears_fen::bigint AS arrears_fen FROM new_rows WHERE arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id = d.building_id GROUP '
    'BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR sum(d.arrears_fen) <> '
    '0; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_delete() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally_change (community_id, due, on_hold, '
    'units, arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, -1 AS '
    'units, -arrears_fen::bigint AS arrears_fen FROM old_rows WHERE arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id = d.building_id GROUP '
    'BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR sum(d.arrears_fen) <> '
    '0; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_update() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally_change (community_id, due, on_hold, '
    'units, arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, 1 AS '
    'units, arrears_fen::bigint AS arrears_fen FROM new_rows WHERE arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL UNION ALL SELECT building_id, oldest_unpaid_due AS due, '
    'on_hold, -1 AS units, -arrears_fen::bigint AS arrears_fen FROM old_rows WHERE '
    'arrears_fen > 0 AND oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id = '
    'd.building_id GROUP BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR '
    'sum(d.arrears_fen) <> 0; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_truncate() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN DELETE FROM overdue_tally; DELETE FROM overdue_tally_change; '
    'RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_building() RETURNS trigger LANGUAGE plpgsql '
    'AS $$ BEGIN PERFORM 1 FROM unit WHERE building_id IN (SELECT n.id FROM old_rows AS o '
    'JOIN new_rows AS n ON n.id = o.id WHERE o.community_id <> n.community_id) FOR SHARE; '
    'INSERT INTO overdue_tally_change (community_id, due, on_hold, units, arrears_fen) '
    'SELECT d.community_id, d.due, d.on_hold, sum(d.units), sum(d.arrears_fen) FROM (SELECT'
    ' u.building_id, u.oldest_unpaid_due AS due, u.on_hold, -1 AS units, '
    '-u.arrears_fen::bigint AS arrears_fen, o.community_id FROM old_rows AS o JOIN new_rows'
    ' AS n ON n.id = o.id JOIN unit AS u ON u.building_id = n.id WHERE o.community_id <> '
    'n.community_id AND u.arrears_fen > 0 AND u.oldest_unpaid_due IS NOT NULL UNION ALL '
    'SELECT u.building_id, u.oldest_unpaid_due AS due, u.on_hold, 1 AS units, '
    'u.arrears_fen::bigint AS arrears_fen, n.community_id FROM old_rows AS o JOIN new_rows '
    'AS n ON n.id = o.id JOIN unit AS u ON u.building_id = n.id WHERE o.community_id <> '
    'n.community_id AND u.arrears_fen > 0 AND u.oldest_unpaid_due IS NOT NULL) AS d GROUP '
    'BY d.community_id, d.due, d.on_hold; RETURN NULL; END $$',
]

# Counted again, the log emptied, from one snapshot, after the lock folds take: a
# database restored from a backup of before this revision over a newer one keeps the
# newer log standing, with rows the count of 0013 already counts.
LOCK = 'SELECT pg_advisory_xact_lock(2047934464)'
RECOUNT = (
    'WITH counted AS (SELECT b.community_id, u.oldest_unpaid_due, u.on_hold, count(*), '
    'sum(u.arrears_fen) FROM unit AS u JOIN building AS b ON b.id = u.building_id WHERE '
    'u.arrears_fen > 0 AND u.oldest_unpaid_due IS NOT NULL GROUP BY b.community_id, '
    'u.oldest_unpaid_due, u.on_hold), logged AS (DELETE FROM overdue_tally_change), stale '
    'AS (DELETE FROM overdue_tally WHERE (community_id, due, on_hold) NOT IN (SELECT '
    'community_id, oldest_unpaid_due, on_hold FROM counted)) INSERT INTO overdue_tally '
    '(community_id, due, on_hold, units, arrears_fen) SELECT * FROM counted ON CONFLICT '
    '(community_id, due, on_hold) DO UPDATE SET units = excluded.units, arrears_fen = '
    'excluded.arrears_fen')

FOLD = (
    'INSERT INTO overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT '
    'community_id, due, on_hold, sum(units), sum(arrears_fen) FROM overdue_tally_change '
    'GROUP BY community_id, due, on_hold ON CONFLICT (community_id, due, on_hold) DO '
    'UPDATE SET units = overdue_tally.units + excluded.units, arrears_fen = '
    'overdue_tally.arrears_fen + excluded.arrears_fen')


def upgrade():
    bind = op.get_bind()
    if not sa.inspect(bind).has_table('overdue_tally_change'):
        op.create_table(
            'overdue_tally_change',
            sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                      nullable=False),
            sa.Column('community_id', sa.Integer(), nullable=False),
            sa.Column('due', sa.Date(), nullable=False),
            sa.Column('on_hold', sa.Boolean(), nullable=False),
            sa.Column('units', sa.BigInteger(), nullable=False),
            sa.Column('arrears_fen', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('id', name=op.f('pk_overdue_tally_change')))
    if bind.dialect.name == 'postgresql':
        for statement in POSTGRESQL:
            op.execute(statement)
        op.execute(LOCK)
        op.execute(RECOUNT)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # The 0013 triggers' functions again, with what the log holds added in first.
        path = Path(__file__).with_name('0013_overdue_tally.py')
        spec = importlib.util.spec_from_file_location('overdue_tally_0013', path)
        before = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(before)
        op.execute('LOCK TABLE overdue_tally_change IN EXCLUSIVE MODE')
        op.execute(FOLD)
        for statement in before.POSTGRESQL:
            if statement.startswith('CREATE OR REPLACE FUNCTION'):
                op.execute(statement)
    op.drop_table('overdue_tally_change')
