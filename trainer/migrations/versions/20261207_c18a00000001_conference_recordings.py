"""conference recordings: the room's recording state, one row per recorded publisher stretch

Revision ID: c18a00000001
Revises: c15b00000001
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa
import trainer.dbtypes


# revision identifiers, used by Alembic.
revision = 'c18a00000001'
down_revision = 'c15b00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conference_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_since',
                                      trainer.dbtypes.UTCDateTime(timezone=True), nullable=True))
    op.create_table('conference_recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('janus_session_id', sa.BigInteger(), nullable=True),
    sa.Column('janus_handle_id', sa.BigInteger(), nullable=True),
    sa.Column('basename', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', trainer.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', trainer.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('video_material_id', sa.Integer(), nullable=True),
    sa.Column('audio_material_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('recording', 'converting', 'attached', 'failed')", name=op.f('ck_conference_recordings_recording_state')),
    sa.ForeignKeyConstraint(['audio_material_id'], ['material.id'], name=op.f('fk_conference_recordings_audio_material_id_material'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_conference_recordings_session_id_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_conference_recordings_started_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['video_material_id'], ['material.id'], name=op.f('fk_conference_recordings_video_material_id_material'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_recordings')),
    sa.UniqueConstraint('basename', name=op.f('uq_conference_recordings_basename'))
    )
    with op.batch_alter_table('conference_recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_recordings_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('conference_recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_recordings_session_id'))
    op.drop_table('conference_recordings')
    with op.batch_alter_table('conference_rooms', schema=None) as batch_op:
        batch_op.drop_column('recording_since')
