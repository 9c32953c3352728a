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
    # Plain ALTER TABLE ... ADD COLUMN where possible: a batch copy of a table on SQLite drops
    # the old table, and with foreign keys on that deletes (or sets to NULL) the rows that
    # point to it: a site's units, a question's options, participants' units.
    op.add_column('question', sa.Column('source_article', sa.String(length=200), nullable=True))
    op.add_column('question', sa.Column('source_document', sa.String(length=300),
                                        nullable=True))
    op.add_column('question', sa.Column('valid_as_of', sa.Date(), nullable=True))
    op.add_column('site', sa.Column('sort_key', sort_key_type(), nullable=False,
                                    server_default='9'))
    op.add_column('site', sa.Column('level', SITE_LEVEL, nullable=False,
                                    server_default='district'))
    op.add_column('unit', sa.Column('level', UNIT_LEVEL, nullable=True))
    op.add_column('unit', sa.Column('ended_on', sa.Date(), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        # A foreign key needs a copy of `unit`; dropping the old copy sets participants' unit
        # to NULL (ON DELETE SET NULL): keep them and put them back.
        participant = sa.table('participant', sa.column('id'), sa.column('unit_id'))
        kept = conn.execute(sa.select(participant.c.id, participant.c.unit_id)
                            .where(participant.c.unit_id.is_not(None))).all()
        with op.batch_alter_table('unit', schema=None) as batch_op:
            batch_op.add_column(sa.Column('successor_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_unit_successor_id_unit'), 'unit',
                                        ['successor_id'], ['id'], ondelete='SET NULL')
        if kept:
            conn.execute(participant.update().where(participant.c.id == sa.bindparam('pid'))
                         .values(unit_id=sa.bindparam('uid')),
                         [{'pid': pid, 'uid': uid} for pid, uid in kept])
    else:
        op.add_column('unit', sa.Column('successor_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_unit_successor_id_unit'), 'unit', 'unit',
                              ['successor_id'], ['id'], ondelete='SET NULL')
    op.create_index(op.f('ix_unit_successor_id'), 'unit', ['successor_id'], unique=False)

    site = sa.table('site', sa.column('id'), sa.column('name'), sa.column('sort_key'),
                    sa.column('level'))
    for id_, name in conn.execute(sa.select(site.c.id, site.c.name)).all():
        conn.execute(site.update().where(site.c.id == id_).values(
            sort_key=admin_sort_key(name), level=site_level_of(name).value))
    unit = sa.table('unit', sa.column('id'), sa.column('name'), sa.column('sort_key'),
                    sa.column('level'))
    for id_, name in conn.execute(sa.select(unit.c.id, unit.c.name)).all():
        level = unit_level_of(name)
        conn.execute(unit.update().where(unit.c.id == id_).values(
            sort_key=admin_sort_key(name), level=level.value if level else None))


def downgrade():
    op.drop_index(op.f('ix_unit_successor_id'), table_name='unit')
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        participant = sa.table('participant', sa.column('id'), sa.column('unit_id'))
        kept = conn.execute(sa.select(participant.c.id, participant.c.unit_id)
                            .where(participant.c.unit_id.is_not(None))).all()
        with op.batch_alter_table('unit', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_unit_successor_id_unit'),
                                     type_='foreignkey')
            batch_op.drop_column('successor_id')
        if kept:
            conn.execute(participant.update().where(participant.c.id == sa.bindparam('pid'))
                         .values(unit_id=sa.bindparam('uid')),
                         [{'pid': pid, 'uid': uid} for pid, uid in kept])
    else:
        op.drop_constraint(op.f('fk_unit_successor_id_unit'), 'unit', type_='foreignkey')
        op.drop_column('unit', 'successor_id')
    for table, column in (('unit', 'ended_on'), ('unit', 'level'), ('site', 'level'),
                          ('site', 'sort_key'), ('question', 'valid_as_of'),
                          ('question', 'source_document'), ('question', 'source_article')):
        op.drop_column(table, column)
