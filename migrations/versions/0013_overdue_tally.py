"""Units in arrears per community, due date and dunning hold, kept by triggers, for
the chips of a view over the whole estate (fieldapp/models/overdue_tally.py). The
statements are this revision's, written out: the models' may change later.

Revision ID: 0013_overdue_tally
Revises: 0012_estate_version
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op


revision = '0013_overdue_tally'
down_revision = '0012_estate_version'
branch_labels = None
depends_on = None

POSTGRESQL = [
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_insert() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally (community_id, due, on_hold, units, '
    'arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, 1 AS'
    ' units, arrears_fen::bigint AS arrears_fen FROM new_rows WHERE arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id = d.building_id GROUP'
    ' BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR sum(d.arrears_fen) '
    '<> 0 ORDER BY b.community_id, d.due, d.on_hold ON CONFLICT (community_id, due, '
    'on_hold) DO UPDATE SET units = overdue_tally.units + excluded.units, arrears_fen = '
    'overdue_tally.arrears_fen + excluded.arrears_fen; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_delete() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally (community_id, due, on_hold, units, '
    'arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, -1 '
    'AS units, -arrears_fen::bigint AS arrears_fen FROM old_rows WHERE arrears_fen > 0 '
    'AND oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id = d.building_id '
    'GROUP BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR '
    'sum(d.arrears_fen) <> 0 ORDER BY b.community_id, d.due, d.on_hold ON CONFLICT '
    '(community_id, due, on_hold) DO UPDATE SET units = overdue_tally.units + '
    'excluded.units, arrears_fen = overdue_tally.arrears_fen + excluded.arrears_fen; '
    'RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_update() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN INSERT INTO overdue_tally (community_id, due, on_hold, units, '
    'arrears_fen) SELECT b.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT building_id, oldest_unpaid_due AS due, on_hold, 1 AS'
    ' units, arrears_fen::bigint AS arrears_fen FROM new_rows WHERE arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL UNION ALL SELECT building_id, oldest_unpaid_due AS '
    'due, on_hold, -1 AS units, -arrears_fen::bigint AS arrears_fen FROM old_rows WHERE '
    'arrears_fen > 0 AND oldest_unpaid_due IS NOT NULL) AS d JOIN building AS b ON b.id ='
    ' d.building_id GROUP BY b.community_id, d.due, d.on_hold HAVING sum(d.units) <> 0 OR'
    ' sum(d.arrears_fen) <> 0 ORDER BY b.community_id, d.due, d.on_hold ON CONFLICT '
    '(community_id, due, on_hold) DO UPDATE SET units = overdue_tally.units + '
    'excluded.units, arrears_fen = overdue_tally.arrears_fen + excluded.arrears_fen; '
    'RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_unit_truncate() RETURNS trigger LANGUAGE '
    'plpgsql AS $$ BEGIN DELETE FROM overdue_tally; RETURN NULL; END $$',
    'CREATE OR REPLACE FUNCTION overdue_tally_building() RETURNS trigger LANGUAGE plpgsql'
    ' AS $$ BEGIN INSERT INTO overdue_tally (community_id, due, on_hold, units, '
    'arrears_fen) SELECT d.community_id, d.due, d.on_hold, sum(d.units), '
    'sum(d.arrears_fen) FROM (SELECT u.building_id, u.oldest_unpaid_due AS due, '
    'u.on_hold, -1 AS units, -u.arrears_fen::bigint AS arrears_fen, o.community_id FROM '
    'old_rows AS o JOIN new_rows AS n ON n.id = o.id JOIN unit AS u ON u.building_id = '
    'n.id WHERE o.community_id <> n.community_id AND u.arrears_fen > 0 AND '
    'u.oldest_unpaid_due IS NOT NULL UNION ALL SELECT u.building_id, u.oldest_unpaid_due '
    'AS due, u.on_hold, 1 AS units, u.arrears_fen::bigint AS arrears_fen, n.community_id '
    'FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id JOIN unit AS u ON u.building_id'
    ' = n.id WHERE o.community_id <> n.community_id AND u.arrears_fen > 0 AND '
    'u.oldest_unpaid_due IS NOT NULL) AS d GROUP BY d.community_id, d.due, d.on_hold '
    'ORDER BY d.community_id, d.due, d.on_hold ON CONFLICT (community_id, due, on_hold) '
    'DO UPDATE SET units = overdue_tally.units + excluded.units, arrears_fen = '
    'overdue_tally.arrears_fen + excluded.arrears_fen; RETURN NULL; END $$',
    'CREATE OR REPLACE TRIGGER overdue_tally_unit_insert AFTER INSERT ON unit REFERENCING'
    ' NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION '
    'overdue_tally_unit_insert()',
    'CREATE OR REPLACE TRIGGER overdue_tally_unit_update AFTER UPDATE ON unit REFERENCING'
    ' OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION '
    'overdue_tally_unit_update()',
    'CREATE OR REPLACE TRIGGER overdue_tally_unit_delete AFTER DELETE ON unit REFERENCING'
    ' OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION '
    'overdue_tally_unit_delete()',
    'CREATE OR REPLACE TRIGGER overdue_tally_unit_truncate AFTER TRUNCATE ON unit FOR '
    'EACH STATEMENT EXECUTE FUNCTION overdue_tally_unit_truncate()',
    'CREATE OR REPLACE TRIGGER overdue_tally_building AFTER UPDATE ON building '
    'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE '
    'FUNCTION overdue_tally_building()',
]

SQLITE = [
    'CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_insert AFTER INSERT ON unit BEGIN '
    'INSERT INTO overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT '
    'community_id, new.oldest_unpaid_due, new.on_hold, 1, new.arrears_fen FROM building '
    'WHERE id = new.building_id AND new.arrears_fen > 0 AND new.oldest_unpaid_due IS NOT '
    'NULL ON CONFLICT (community_id, due, on_hold) DO UPDATE SET units = units + '
    'excluded.units, arrears_fen = arrears_fen + excluded.arrears_fen; END',
    'CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_delete AFTER DELETE ON unit BEGIN '
    'INSERT INTO overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT '
    'community_id, old.oldest_unpaid_due, old.on_hold, -1, -old.arrears_fen FROM building'
    ' WHERE id = old.building_id AND old.arrears_fen > 0 AND old.oldest_unpaid_due IS NOT'
    ' NULL ON CONFLICT (community_id, due, on_hold) DO UPDATE SET units = units + '
    'excluded.units, arrears_fen = arrears_fen + excluded.arrears_fen; END',
    'CREATE TRIGGER IF NOT EXISTS overdue_tally_unit_update AFTER UPDATE OF arrears_fen, '
    'oldest_unpaid_due, on_hold, building_id ON unit WHEN old.arrears_fen IS NOT '
    'new.arrears_fen OR old.oldest_unpaid_due IS NOT new.oldest_unpaid_due OR old.on_hold'
    ' IS NOT new.on_hold OR old.building_id IS NOT new.building_id BEGIN INSERT INTO '
    'overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT community_id, '
    'old.oldest_unpaid_due, old.on_hold, -1, -old.arrears_fen FROM building WHERE id = '
    'old.building_id AND old.arrears_fen > 0 AND old.oldest_unpaid_due IS NOT NULL ON '
    'CONFLICT (community_id, due, on_hold) DO UPDATE SET units = units + excluded.units, '
    'arrears_fen = arrears_fen + excluded.arrears_fen; INSERT INTO overdue_tally '
    '(community_id, due, on_hold, units, arrears_fen) SELECT community_id, '
    'new.oldest_unpaid_due, new.on_hold, 1, new.arrears_fen FROM building WHERE id = '
    'new.building_id AND new.arrears_fen > 0 AND new.oldest_unpaid_due IS NOT NULL ON '
    'CONFLICT (community_id, due, on_hold) DO UPDATE SET units = units + excluded.units, '
    'arrears_fen = arrears_fen + excluded.arrears_fen; END',
    'CREATE TRIGGER IF NOT EXISTS overdue_tally_building AFTER UPDATE OF community_id ON '
    'building WHEN old.community_id IS NOT new.community_id BEGIN INSERT INTO '
    'overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT '
    'old.community_id, oldest_unpaid_due, on_hold, -count(*), -sum(arrears_fen) FROM unit'
    ' WHERE building_id = new.id AND arrears_fen > 0 AND oldest_unpaid_due IS NOT NULL '
    'GROUP BY oldest_unpaid_due, on_hold ON CONFLICT (community_id, due, on_hold) DO '
    'UPDATE SET units = units + excluded.units, arrears_fen = arrears_fen + '
    'excluded.arrears_fen; INSERT INTO overdue_tally (community_id, due, on_hold, units, '
    'arrears_fen) SELECT new.community_id, oldest_unpaid_due, on_hold, count(*), '
    'sum(arrears_fen) FROM unit WHERE building_id = new.id AND arrears_fen > 0 AND '
    'oldest_unpaid_due IS NOT NULL GROUP BY oldest_unpaid_due, on_hold ON CONFLICT '
    '(community_id, due, on_hold) DO UPDATE SET units = units + excluded.units, '
    'arrears_fen = arrears_fen + excluded.arrears_fen; END',
]

# Every unit counted, once the triggers count every change after.
REBUILD = [
    'DELETE FROM overdue_tally',
    'INSERT INTO overdue_tally (community_id, due, on_hold, units, arrears_fen) SELECT '
    'b.community_id, u.oldest_unpaid_due, u.on_hold, count(*), sum(u.arrears_fen) FROM '
    'unit AS u JOIN building AS b ON b.id = u.building_id WHERE u.arrears_fen > 0 AND '
    'u.oldest_unpaid_due IS NOT NULL GROUP BY b.community_id, u.oldest_unpaid_due, '
    'u.on_hold',
]

TRIGGERS = {
    'postgresql': ['overdue_tally_unit_insert', 'overdue_tally_unit_update',
                   'overdue_tally_unit_delete', 'overdue_tally_unit_truncate',
                   'overdue_tally_building'],
    'sqlite': ['overdue_tally_unit_insert', 'overdue_tally_unit_update',
               'overdue_tally_unit_delete', 'overdue_tally_building'],
}


def upgrade():
    bind = op.get_bind()
    if not sa.inspect(bind).has_table('overdue_tally'):
        op.create_table(
            'overdue_tally',
            sa.Column('community_id', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('due', sa.Date(), nullable=False),
            sa.Column('on_hold', sa.Boolean(), nullable=False),
            sa.Column('units', sa.BigInteger(), nullable=False),
            sa.Column('arrears_fen', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('community_id', 'due', 'on_hold',
                                    name=op.f('pk_overdue_tally')))
    for statement in POSTGRESQL if bind.dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)
    for statement in REBUILD:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name in TRIGGERS['postgresql' if postgresql else 'sqlite']:
        table = 'building' if name == 'overdue_tally_building' else 'unit'
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql
                   else f"DROP TRIGGER {name}")
        if postgresql:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table('overdue_tally')
