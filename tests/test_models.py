"""The data model on a real SQLite file: constraints, optimistic locking, append-only audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models import AuditEvent, Book, FieldValue, Page, Record, Unit
from tests.backends import BACKENDS, fresh_engine
from workbench.audit import record_event
from workbench.books import BookError, BookIdentity, get_or_create_book
from workbench.db import make_engine, migrate, session_factory, transaction


@pytest.fixture(params=BACKENDS)
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    engine = fresh_engine(request.param, tmp_path)
    yield session_factory(engine)
    engine.dispose()


def _page(session: Session, book: Book, sha: str = "a" * 64, index: int = 1) -> Page:
    page = Page(book_id=book.id, original_name="p.jpg", sha256=sha, image_path="x", page_index=index)
    session.add(page)
    session.flush()
    return page


def _book(session: Session) -> Book:
    return get_or_create_book(session, BookIdentity("Xã Đại Lãnh", "khai_sinh", 2003, 1))


def test_migration_creates_every_table_and_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wb.db'}")
    migrate(engine)
    migrate(engine)  # running again is a no-op
    tables = set(inspect(engine).get_table_names())
    assert {"units", "users", "books", "pages", "records", "field_values", "audit_events"} <= tables


def test_book_identity_is_unique_and_reused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        first = _book(session)
        again = _book(session)
        assert first.id == again.id
        other = get_or_create_book(session, BookIdentity("Xã Đại Lãnh", "khai_sinh", 2003, 2))
        assert other.id != first.id
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        unit = session.scalar(select(Unit))
        session.add(Book(unit_id=unit.id, book_type="khai_sinh", year_from=2003, volume=1))


def test_a_top_level_unit_name_is_unique_though_its_parent_is_null(sessions: sessionmaker[Session]) -> None:
    # (parent_id, name) alone lets two NULL parents through: two racing ingests made a unit twice.
    with transaction(sessions) as session:
        session.add(Unit(name="Xã Đại Lãnh", level="xa"))
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(Unit(name="Xã Đại Lãnh", level="xa"))
    with transaction(sessions) as session:  # the same name under a parent is another unit
        parent = session.scalar(select(Unit))
        session.add(Unit(name="Xã Đại Lãnh", level="xa", parent_id=parent.id))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Unit)) == 2


def test_upgrading_a_database_with_twin_top_level_units_keeps_both_and_renames_the_later(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wb.db'}")
    migrate(engine, "0008")
    with engine.begin() as conn:
        for _ in range(2):
            conn.execute(text("INSERT INTO units (name, level) VALUES ('Xã Đại Lãnh', 'xa')"))
        conn.execute(text("INSERT INTO books (unit_id, book_type, year_from, volume, status, created_at)"
                          " VALUES (2, 'khai_sinh', 2003, 1, 'open', '2026-01-01 00:00:00')"))
    migrate(engine)
    with engine.connect() as conn:
        units = conn.execute(text("SELECT id, name FROM units ORDER BY id")).all()
        books = conn.execute(text("SELECT unit_id FROM books")).all()
    assert [tuple(u) for u in units] == [(1, "Xã Đại Lãnh"), (2, "Xã Đại Lãnh (trùng #2)")]
    assert [tuple(b) for b in books] == [(2,)]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO units (name, level) VALUES ('Xã Đại Lãnh', 'xa')"))


def test_unknown_book_type_and_bad_year_are_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="Unknown book type"), transaction(sessions) as session:
        get_or_create_book(session, BookIdentity("Xã A", "khai_sinhh", 2003, 1))
    with pytest.raises(BookError, match="year"), transaction(sessions) as session:
        get_or_create_book(session, BookIdentity("Xã A", "khai_sinh", 203, 1))


@pytest.mark.parametrize(
    ("table", "column", "bad_value"),
    [("records", "status", "done"), ("field_values", "confidence", 1.5), ("records", "row_index", 0)],
)
def test_check_constraints(sessions: sessionmaker[Session], table: str, column: str, bad_value: object) -> None:
    with transaction(sessions) as session:
        book = _book(session)
        page = _page(session, book)
        record = Record(book_id=book.id, page_id=page.id, row_index=1, bbox=[0, 0, 10, 10])
        record.fields = [FieldValue(key="full_name", proposed_value="A", confidence=0.5)]
        session.add(record)
        session.flush()
        target_id = record.id if table == "records" else record.fields[0].id
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": bad_value, "id": target_id})


def test_same_file_twice_in_a_book_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        book = _book(session)
        _page(session, book)
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        _page(session, session.get(Book, book.id), index=2)


def test_optimistic_lock_refuses_a_stale_save(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        book = _book(session)
        page = _page(session, book)
        record = Record(book_id=book.id, page_id=page.id, row_index=1, bbox=[0, 0, 1, 1])
        session.add(record)
        session.flush()
        record_id = record.id
    first, second = sessions(), sessions()
    mine = first.get(Record, record_id)
    theirs = second.get(Record, record_id)
    assert mine.version == theirs.version == 1
    mine.status = "approved"
    first.commit()
    theirs.status = "flagged"
    with pytest.raises(StaleDataError):
        second.commit()
    second.rollback()
    with sessions() as check:
        stored = check.get(Record, record_id)
        assert (stored.status, stored.version) == ("approved", 2)
    first.close()
    second.close()


def test_audit_trail_is_append_only(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        event = record_event(session, actor=None, entity_type="book", entity_id=1, action="create", new={"a": 1})
        session.flush()
        event_id = event.id
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events WHERE id > 0"):
        with pytest.raises(Exception, match="append-only"), transaction(sessions) as session:
            session.execute(text(statement))
    with sessions() as session:
        assert session.get(AuditEvent, event_id).action == "create"


def test_deleting_a_page_cascades_to_its_records(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        book = _book(session)
        page = _page(session, book)
        record = Record(book_id=book.id, page_id=page.id, row_index=1, bbox=[0, 0, 1, 1])
        record.fields = [FieldValue(key="sex", proposed_value="Nam", confidence=0.9)]
        session.add(record)
    with transaction(sessions) as session:
        session.delete(session.get(Page, page.id))
    with sessions() as session:
        assert session.scalar(select(Record)) is None
        assert session.scalar(select(FieldValue)) is None
