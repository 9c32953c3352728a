"""security hardening: session versions, attempt handover approval and device key

Revision ID: c16a00000001
Revises: c17a11e5d0b4
Create Date: 2026-12-07 11:40:00

"""
from alembic import op
import sqlalchemy as sa
import trainer.dbtypes


revision = 'c16a00000001'
down_revision = 'c17a11e5d0b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('material_download', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor', sa.String(length=64), nullable=True))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resume_approved_until',
                                      trainer.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('device_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('material_download', schema=None) as batch_op:
        batch_op.drop_column('visitor')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('device_hash')
        batch_op.drop_column('resume_approved_until')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
