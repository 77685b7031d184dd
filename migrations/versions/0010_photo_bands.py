"""The photo band indexes carry the hash and the id: the near-duplicate check reads its
candidates from the indexes alone.

Revision ID: 0010_photo_bands
Revises: 0009_notices
Create Date: 2026-12-02
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_photo_bands'
down_revision = '0009_notices'
branch_labels = None
depends_on = None

BANDS = range(4)


# Plain index operations (no batch mode): on SQLite a batch would copy the photo table.
def upgrade():
    for b in BANDS:
        op.drop_index(f'ix_photo_phash_b{b}', table_name='photo')
        op.create_index(f'ix_photo_phash_b{b}', 'photo', [f'phash_b{b}', 'phash', 'id'])


def downgrade():
    for b in BANDS:
        op.drop_index(f'ix_photo_phash_b{b}', table_name='photo')
        op.create_index(f'ix_photo_phash_b{b}', 'photo', [f'phash_b{b}'])
