"""top-level unit names unique: two ingests of a new unit at once made it twice

`units` is unique on (parent_id, name), but SQL treats NULLs as distinct, so a top-level unit
(parent_id NULL) could be inserted twice by two ingests racing on an empty database, each then
creating its own copy of the book. A partial unique index on name where parent_id IS NULL (both
SQLite and PostgreSQL support them) makes the later insert fail, and the ingest's retry finds the
first one's unit.

A database that already holds such twins keeps every row: the later twins are renamed
"<name> (trùng #<id>)" so the index can be built and an administrator sees them in the unit list
to merge by hand. Nothing is moved or deleted here: books of both twins may share an identity.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

INDEX = 'uq_units_top_level_name'
WHERE = sa.text('parent_id IS NULL')


def upgrade() -> None:
    bind = op.get_bind()
    twins = bind.execute(sa.text(
        "SELECT u.id, u.name FROM units u WHERE u.parent_id IS NULL AND EXISTS ("
        " SELECT 1 FROM units o WHERE o.parent_id IS NULL AND o.name = u.name AND o.id < u.id)"
    )).all()
    for unit_id, name in twins:
        renamed = f"{name} (trùng #{unit_id})"
        log.warning("Top-level unit %d duplicates the name %r: renamed %r, merge it by hand", unit_id, name,
                    renamed)
        bind.execute(sa.text("UPDATE units SET name = :name WHERE id = :id"), {"name": renamed, "id": unit_id})
    op.create_index(INDEX, 'units', ['name'], unique=True, sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index(INDEX, table_name='units')
