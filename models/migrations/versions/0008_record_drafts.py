"""record_drafts: an official's unsaved typing per record, kept on the server (issue #15 item 1)

A reload (F5) or a dropped connection used to lose what was typed into the verification form.
One row per (record, user), deleted when the record is saved, approved, flagged or skipped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('visited', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_drafts_record_id_records'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_record_drafts_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_drafts')),
    sa.UniqueConstraint('record_id', 'user_id', name=op.f('uq_record_drafts_record_id_user_id'))
    )
    with op.batch_alter_table('record_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_drafts_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_drafts_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('record_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_drafts_user_id'))
        batch_op.drop_index(batch_op.f('ix_record_drafts_record_id'))
    op.drop_table('record_drafts')
