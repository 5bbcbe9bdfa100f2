"""One place that turns settings into a migrated engine and a session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workbench.config import Settings, load_settings
from workbench.db import make_engine, migrate, session_factory


@dataclass(frozen=True)
class Workbench:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_workbench(settings: Settings | None = None, run_migrations: bool = True) -> Workbench:
    settings = settings or load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if run_migrations:
        migrate(engine)
    return Workbench(settings, engine, session_factory(engine))
