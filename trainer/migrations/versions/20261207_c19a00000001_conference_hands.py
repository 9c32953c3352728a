"""conference hands: a site on the call asks for the floor

Revision ID: c19a00000001
Revises: c18a00000001
Create Date: 2026-12-07 19:00:00

"""
from alembic import op
import sqlalchemy as sa
import trainer.dbtypes


# revision identifiers, used by Alembic.
revision = 'c19a00000001'
down_revision = 'c18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conference_sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hand_raised_at',
                                      trainer.dbtypes.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('conference_sites', schema=None) as batch_op:
        batch_op.drop_column('hand_raised_at')
