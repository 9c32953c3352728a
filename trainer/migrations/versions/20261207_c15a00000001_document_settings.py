"""document settings and certificate register

Who issues and signs the documents (a default row, and rows per training), and a register
number per certificate, counted from 1 in each year; certificates issued before are numbered
in the order they were issued.

Revision ID: c15a00000001
Revises: c14b00000001
Create Date: 2026-12-07 11:21:05.553589

"""
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import trainer.dbtypes


# revision identifiers, used by Alembic.
revision = 'c15a00000001'
down_revision = 'c14b00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=True),
    sa.Column('parent_agency', sa.String(length=200), nullable=False),
    sa.Column('issuing_agency', sa.String(length=200), nullable=False),
    sa.Column('place_name', sa.String(length=100), nullable=False),
    sa.Column('signer_authority', sa.String(length=100), nullable=False),
    sa.Column('signer_title', sa.String(length=100), nullable=False),
    sa.Column('signer_name', sa.String(length=100), nullable=False),
    sa.Column('signature_png', sa.LargeBinary(), nullable=True),
    sa.Column('seal_png', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', trainer.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('seal_png IS NULL OR length(seal_png) <= 1048576', name=op.f('ck_document_settings_seal_size')),
    sa.CheckConstraint('signature_png IS NULL OR length(signature_png) <= 1048576', name=op.f('ck_document_settings_signature_size')),
    sa.ForeignKeyConstraint(['training_id'], ['training.id'], name=op.f('fk_document_settings_training_id_training'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_document_settings_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_settings')),
    sa.UniqueConstraint('training_id', name=op.f('uq_document_settings_training_id'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('register_number', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_certificate_register', ['register_year', 'register_number'])

    conn = op.get_bind()
    zone = ZoneInfo(os.environ.get("TRAINER_TIMEZONE", "Asia/Ho_Chi_Minh"))  # as config.py
    counters: dict[int, int] = {}
    rows = conn.execute(sa.text("SELECT id, issued_at FROM certificate ORDER BY issued_at, id"))
    for cert_id, issued_at in list(rows):
        if isinstance(issued_at, str):
            issued_at = datetime.fromisoformat(issued_at)
        if issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=UTC)
        year = issued_at.astimezone(zone).year
        counters[year] = counters.get(year, 0) + 1
        conn.execute(sa.text("UPDATE certificate SET register_year = :y, register_number = :n "
                             "WHERE id = :i"), {"y": year, "n": counters[year], "i": cert_id})



def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('uq_certificate_register', type_='unique')
        batch_op.drop_column('register_number')
        batch_op.drop_column('register_year')

    op.drop_table('document_settings')
