"""Engine, sessions and migrations for the one database (SQLite default, PostgreSQL for sites)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from workbench.errors import ServiceError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "models" / "migrations"


def make_engine(url: str) -> Engine:
    """hide_parameters: SQL errors and SQL echo never carry the values (names, dates of birth) into logs."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the ingest writer
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine, revision: str = "head", script_location: Path = MIGRATIONS_DIR) -> None:
    """Bring the schema up to `revision` with Alembic (the only way tables are created).

    Each migration runs in its own transaction (models/migrations/env.py), so a failure leaves the
    database at the last revision that completed, and running this again picks up from there.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection, _transactional_ddl(connection):
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        if connection.in_transaction():
            connection.commit()  # Alembic's own bookkeeping outside the per-migration transactions


def _emit_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


@contextmanager
def _transactional_ddl(connection: Connection) -> Iterator[None]:
    """On SQLite, make CREATE/ALTER/DROP part of the transaction they run in.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE and runs DDL outside any, so a
    migration killed half way kept the tables it had made ('table units already exists' on every
    later run). With the driver's handling off, SQLAlchemy's begin() emits BEGIN itself (the
    recipe in SQLAlchemy's SQLite dialect documentation, 'Serializable isolation / Savepoints /
    Transactional DDL'). Only this connection, only while migrating: the app keeps pysqlite's
    behaviour, whose late BEGIN keeps readers from holding snapshots.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.in_transaction():
        connection.commit()
    previous = driver.isolation_level
    driver.isolation_level = None
    event.listen(connection, "begin", _emit_begin)
    try:
        yield
    finally:
        event.remove(connection, "begin", _emit_begin)
        driver.isolation_level = previous


def refresh_statistics(engine: Engine) -> None:
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this itself).

    Without them SQLite ignores the queue/report indexes on a grown database (bench/SCALE.md).
    """
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            # analysis_limit bounds the work (approximate stats, milliseconds even on a 3 GB file).
            connection.exec_driver_sql("PRAGMA analysis_limit=400")
            connection.exec_driver_sql("ANALYZE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# Connecting is retried for about CONNECT_ATTEMPTS * CONNECT_BACKOFF_S seconds: long enough to ride
# out a PostgreSQL restart or failover blip, short enough that the official is told quickly.
CONNECT_ATTEMPTS = 4
CONNECT_BACKOFF_S = 0.5
UNAVAILABLE_VI = "Cơ sở dữ liệu tạm thời không truy cập được; chưa có thay đổi nào được lưu. Vui lòng thử lại."


class DatabaseUnavailableError(ServiceError):
    """The database could not be reached, or stayed locked/busy; the transaction was rolled back."""


def is_transient(exc: OperationalError) -> bool:
    """A lost/refused connection, a lock held too long, or a deadlock/serialization failure: trying
    again later can succeed. (Schema errors such as SQLite's 'no such table' are not transient.)"""
    if exc.connection_invalidated:
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
    if sqlstate.startswith(("08", "40", "57P")):  # connection exception, rollback, shutdown
        return True
    message = str(exc.orig).lower()
    return any(word in message for word in ("database is locked", "database table is locked", "busy",
                                             "unable to open database", "connection", "could not connect"))


def wait_for_database(engine: Engine, attempts: int = CONNECT_ATTEMPTS) -> None:
    """Check out a connection, retrying transient failures with a growing pause; then give up clearly."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect():
                return
        except OperationalError as exc:
            if not is_transient(exc) or attempt == attempts:
                raise DatabaseUnavailableError(
                    f"The database is unavailable after {attempt} attempt(s): {exc.orig}", UNAVAILABLE_VI
                ) from exc
            log.warning("Database unavailable (attempt %d of %d), retrying: %s", attempt, attempts, exc.orig)
            time.sleep(CONNECT_BACKOFF_S * attempt)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error.

    Connecting is retried first (see wait_for_database). A transient database failure inside the
    block (lock held past the busy timeout, connection lost) rolls everything back and becomes
    DatabaseUnavailableError, which the UI shows as is; the caller may simply try again.
    """
    engine = factory.kw.get("bind")
    if isinstance(engine, Engine):
        wait_for_database(engine)
    with factory() as session:
        try:
            with session.begin():
                yield session
        except OperationalError as exc:
            if not is_transient(exc):
                raise
            raise DatabaseUnavailableError(
                f"The database failed during the transaction, nothing was saved: {exc.orig}", UNAVAILABLE_VI
            ) from exc
