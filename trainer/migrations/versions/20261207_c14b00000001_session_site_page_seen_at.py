"""session_site.page_seen_at: when a site's check-in page was last heard from

Revision ID: c14b00000001
Revises: c13a00000001
Create Date: 2026-12-07 11:30:00

"""
from alembic import op
import sqlalchemy as sa
import trainer.dbtypes


# revision identifiers, used by Alembic.
revision = 'c14b00000001'
down_revision = 'c13a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_seen_at', trainer.dbtypes.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('session_site', schema=None) as batch_op:
        batch_op.drop_column('page_seen_at')
