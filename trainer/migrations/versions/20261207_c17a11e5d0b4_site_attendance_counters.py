"""site attendance counters

Revision ID: c17a11e5d0b4
Revises: 0572b486d052
Create Date: 2026-12-07 11:40:00

"""
import sqlalchemy as sa
from alembic import op

import trainer.dbtypes

revision = 'c17a11e5d0b4'
down_revision = '0572b486d052'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_attendance',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('female', sa.Integer(), nullable=False),
        sa.Column('male', sa.Integer(), nullable=False),
        sa.Column('unspecified', sa.Integer(), nullable=False),
        sa.Column('last_checkin_at', trainer.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['training_session.id'],
                                name=op.f('fk_site_attendance_session_id_training_session'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'],
                                name=op.f('fk_site_attendance_site_id_site'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'site_id', name=op.f('pk_site_attendance')),
    )
    op.create_index('ix_site_attendance_session_id_version', 'site_attendance',
                    ['session_id', 'version'], unique=False)
    # the counters of the check-ins already taken
    op.execute(
        "INSERT INTO site_attendance (session_id, site_id, female, male, unspecified, "
        "last_checkin_at, version) "
        "SELECT c.session_id, c.site_id, "
        "SUM(CASE WHEN p.sex = 'female' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN p.sex = 'male' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN p.sex NOT IN ('female', 'male') THEN 1 ELSE 0 END), "
        "MAX(c.at), MAX(s.attendance_version) "
        "FROM checkin c JOIN participant p ON p.id = c.participant_id "
        "JOIN training_session s ON s.id = c.session_id "
        "GROUP BY c.session_id, c.site_id")


def downgrade():
    op.drop_index('ix_site_attendance_session_id_version', table_name='site_attendance')
    op.drop_table('site_attendance')
