"""Database back-ends the DB tests run against: SQLite always, PostgreSQL when configured.

`.ci/run` starts a real PostgreSQL server and sets WORKBENCH_TEST_PG to its URL; locally,
`WORKBENCH_TEST_PG=$(bash .ci/postgres.sh) make test` does the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from workbench.db import make_engine, migrate

PG_URL = os.environ.get("WORKBENCH_TEST_PG", "")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def fresh_engine(backend: str, tmp_path: Path) -> Engine:
    """A migrated, empty database of the given back-end."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'wb.db'}")
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL tests need WORKBENCH_TEST_PG (set by .ci/run via .ci/postgres.sh)")
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    return engine
