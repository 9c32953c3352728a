"""Question sources and "valid as of"; site and unit levels, official order, unit lineage

Revision ID: c15b00000001
Revises: c15a00000001
Create Date: 2026-12-07 11:50:00

"""
import sqlalchemy as sa
from alembic import op

from trainer.dbtypes import sort_key_type
from trainer.sites.levels import admin_sort_key, site_level_of, unit_level_of

# revision identifiers, used by Alembic.
revision = 'c15b00000001'
down_revision = 'c15a00000001'
branch_labels = None
depends_on = None

SITE_LEVEL = sa.Enum('province', 'district', 'commune', name='site_level', native_enum=False,
                     length=16)
UNIT_LEVEL = sa.Enum('commune', 'ward', 'town', 'special_zone', name='unit_level',
                     native_enum=False, length=16)


def upgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_article', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('source_document', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('valid_as_of', sa.Date(), nullable=True))

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sort_key_type(), nullable=True))
        batch_op.add_column(sa.Column('level', SITE_LEVEL, nullable=True))
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', UNIT_LEVEL, nullable=True))
        batch_op.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('successor_id', sa.Integer(), nullable=True))

    conn = op.get_bind()
    site = sa.table('site', sa.column('id'), sa.column('name'), sa.column('kind'),
                    sa.column('sort_key'), sa.column('level'))
    for id_, name in conn.execute(sa.select(site.c.id, site.c.name)).all():
        conn.execute(site.update().where(site.c.id == id_).values(
            sort_key=admin_sort_key(name), level=site_level_of(name).value))
    unit = sa.table('unit', sa.column('id'), sa.column('name'), sa.column('sort_key'),
                    sa.column('level'))
    for id_, name in conn.execute(sa.select(unit.c.id, unit.c.name)).all():
        level = unit_level_of(name)
        conn.execute(unit.update().where(unit.c.id == id_).values(
            sort_key=admin_sort_key(name), level=level.value if level else None))

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.alter_column('sort_key', existing_type=sort_key_type(), nullable=False)
        batch_op.alter_column('level', existing_type=SITE_LEVEL, nullable=False)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_successor_id'), ['successor_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_unit_successor_id_unit'), 'unit',
                                    ['successor_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_unit_successor_id_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_unit_successor_id'))
        batch_op.drop_column('successor_id')
        batch_op.drop_column('ended_on')
        batch_op.drop_column('level')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('level')
        batch_op.drop_column('sort_key')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('valid_as_of')
        batch_op.drop_column('source_document')
        batch_op.drop_column('source_article')
