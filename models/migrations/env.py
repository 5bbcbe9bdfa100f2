"""Alembic environment: the URL comes from the caller (workbench.db.migrate) or WORKBENCH_DB."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get(
        "WORKBENCH_DB", "sqlite:///data/workbench.db"
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = engine_from_config(
            {"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
        with engine.connect() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # One transaction per migration, SQLite included: a migration that dies half way (disk full)
    # leaves the schema at the previous revision, never half made under an empty alembic_version.
    # SQLite does roll DDL back once the driver's own transaction handling is off (workbench.db.migrate
    # hands it a connection that emits BEGIN itself); Alembic's SQLite default says it does not.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      transaction_per_migration=True, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
