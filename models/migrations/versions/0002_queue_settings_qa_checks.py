"""queue order settings and QA checks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('queue_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('queue_order', sa.String(length=20), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("queue_order IN ('easy_first', 'hard_first', 'book_order')", name=op.f('ck_queue_settings_queue_order')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_queue_settings_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_queue_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_settings')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_queue_settings_unit_id'))
    )
    op.create_table('qa_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('verifier_id', sa.Integer(), nullable=False),
    sa.Column('sampled_by_id', sa.Integer(), nullable=True),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fields_checked', sa.Integer(), nullable=True),
    sa.Column('fields_changed', sa.Integer(), nullable=True),
    sa.Column('changed_keys', sa.JSON(), nullable=False),
    sa.CheckConstraint('fields_changed IS NULL OR fields_changed <= fields_checked', name=op.f('ck_qa_checks_changed_le_checked')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_qa_checks_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_qa_checks_reviewer_id_users')),
    sa.ForeignKeyConstraint(['sampled_by_id'], ['users.id'], name=op.f('fk_qa_checks_sampled_by_id_users')),
    sa.ForeignKeyConstraint(['verifier_id'], ['users.id'], name=op.f('fk_qa_checks_verifier_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_checks')),
    sa.UniqueConstraint('record_id', name=op.f('uq_qa_checks_record_id'))
    )
    with op.batch_alter_table('qa_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_checks_checked_at'), ['checked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_checks_verifier_id'), ['verifier_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qa_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_checks_verifier_id'))
        batch_op.drop_index(batch_op.f('ix_qa_checks_checked_at'))
    op.drop_table('qa_checks')
    op.drop_table('queue_settings')
