"""audit_events: SQLite's INSERT OR REPLACE can no longer overwrite an event

REPLACE deletes the old row without firing the BEFORE DELETE guard of 0001 (delete triggers fire on
REPLACE only with PRAGMA recursive_triggers=ON), so `INSERT OR REPLACE INTO audit_events (id, ...)`
forged event 1 (issue #17 item 8). A BEFORE INSERT guard refuses any insert whose id is taken.
PostgreSQL needs nothing: its only overwrite, INSERT ... ON CONFLICT DO UPDATE, is an UPDATE and
meets the UPDATE guard of 0001.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
            "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_replace")
