"""A user's units are read once per page run (workbench.scope.units_read_once, opened by streamlit_app.py
around each page run): the verification page checks the scope some ten times a run. The user row
(activity, role) is still read by every check, and nothing is remembered outside the block."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from models import Role, User
from workbench.db import transaction
from workbench.errors import ScopeError
from workbench.scope import EVERYONE, load_scope, units_read_once


def _unit_reads(sessions: sessionmaker[Session], user: User, times: int) -> tuple[int, frozenset[int] | None]:
    """How many user_units queries `times` scope checks (each in its own transaction) made."""
    reads = 0
    unit_ids: frozenset[int] | None = None

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal reads
        reads += "user_units" in statement

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(times):
            with transaction(sessions) as session:
                unit_ids = load_scope(session, user).unit_ids
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return reads, unit_ids


def test_units_are_read_once_inside_the_block_and_every_time_outside(
    sessions: sessionmaker[Session], users: dict[str, User]
) -> None:
    official = users["official"]
    outside, units = _unit_reads(sessions, official, 3)
    assert outside == 3 and units
    with units_read_once():
        inside, cached = _unit_reads(sessions, official, 3)
    assert inside == 1 and cached == units
    after, _ = _unit_reads(sessions, official, 2)
    assert after == 2  # the block's memory is gone with it


def test_the_user_row_is_still_checked_inside_the_block(
    sessions: sessionmaker[Session], users: dict[str, User]
) -> None:
    official = users["official"]
    with units_read_once():
        with transaction(sessions) as session:
            load_scope(session, official)
            session.get(User, official.id).active = False
        with pytest.raises(ScopeError), transaction(sessions) as session:
            load_scope(session, official)
        with transaction(sessions) as session:
            session.get(User, official.id).active = True
        with pytest.raises(ScopeError), transaction(sessions) as session:
            load_scope(session, official, [Role.SUPERVISOR])
        with transaction(sessions) as session:
            assert load_scope(session, official, EVERYONE).unit_ids
