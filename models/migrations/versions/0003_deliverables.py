"""deliverables: page header box, unit plans, population extracts, cross-check results

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('header_bbox', sa.JSON(), nullable=True))

    op.create_table('unit_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('computers', sa.Integer(), nullable=False),
    sa.Column('quota_per_computer_per_day', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('computers >= 0 AND quota_per_computer_per_day >= 0', name=op.f('ck_unit_plans_non_negative')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_plans_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_unit_plans_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_plans')),
    sa.UniqueConstraint('unit_id', name=op.f('uq_unit_plans_unit_id'))
    )
    op.create_table('population_extracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_population_extracts_imported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_extracts'))
    )
    with op.batch_alter_table('population_extracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_extracts_sha256'), ['sha256'], unique=False)

    op.create_table('crosscheck_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('extract_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('id_number', sa.String(length=20), nullable=True),
    sa.Column('book_values', sa.JSON(), nullable=False),
    sa.Column('citizen_values', sa.JSON(), nullable=False),
    sa.Column('differing_fields', sa.JSON(), nullable=False),
    sa.Column('candidate_count', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('match', 'different', 'ambiguous', 'not_found')", name=op.f('ck_crosscheck_results_status')),
    sa.ForeignKeyConstraint(['extract_id'], ['population_extracts.id'], name=op.f('fk_crosscheck_results_extract_id_population_extracts')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_crosscheck_results_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_crosscheck_results_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crosscheck_results')),
    sa.UniqueConstraint('record_id', 'role', name=op.f('uq_crosscheck_results_record_id_role'))
    )
    with op.batch_alter_table('crosscheck_results', schema=None) as batch_op:
        batch_op.create_index('ix_crosscheck_queue', ['status', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crosscheck_results_extract_id'), ['extract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crosscheck_results_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('crosscheck_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crosscheck_results_record_id'))
        batch_op.drop_index(batch_op.f('ix_crosscheck_results_extract_id'))
        batch_op.drop_index('ix_crosscheck_queue')
    op.drop_table('crosscheck_results')
    with op.batch_alter_table('population_extracts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_extracts_sha256'))
    op.drop_table('population_extracts')
    op.drop_table('unit_plans')
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('header_bbox')
