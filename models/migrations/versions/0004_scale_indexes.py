"""indexes for province scale (bench/scale.py, bench/SCALE.md)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 11:00:00

Hand-written, indexes only, the same DDL on SQLite and PostgreSQL:
  * ix_records_report (book_id, status, approved_at, page_id): covers the Phụ lục 01 count per
    book (workbench.deliverables.report._book_counts) so it reads the index, not the 1.46 M-row table;
  * ix_records_low_confidence (confidence, status): the supervisor's low-confidence queue walks
    records in confidence order and stops after one page instead of sorting every open record;
  * ix_audit_user_action_at (user_id, action, at): "records this official skipped in the last
    24 h" (workbench.review.queue._recently_skipped, in every next_record) is a direct lookup instead of
    a scan of the whole day's audit trail (every field edit of the province).
No index on pages.deleted: almost every page has the same value, and SQLite without ANALYZE
statistics then drives the queue queries from it and scans every page (measured: 2 s, not 0.1 s).
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_records_report', 'records', ['book_id', 'status', 'approved_at', 'page_id'])
    op.create_index('ix_records_low_confidence', 'records', ['confidence', 'status'])
    op.create_index('ix_audit_user_action_at', 'audit_events', ['user_id', 'action', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_user_action_at', table_name='audit_events')
    op.drop_index('ix_records_low_confidence', table_name='records')
    op.drop_index('ix_records_report', table_name='records')
