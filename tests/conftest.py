"""Shared fixtures: a real migrated SQLite file per test, a unit tree, users of every role, small books.

Books are built FAST: Book/Page/Record/FieldValue rows are inserted directly with synthetic values
(no OCR, no image files), so service tests run in milliseconds.

    wb              Workbench (settings, engine, sessions): a migrated SQLite file on tmp_path
                    (PostgreSQL with WORKBENCH_SERVICES_ON_PG=1 and WORKBENCH_TEST_PG=<url>)
    sessions        wb.sessions (a sessionmaker)
    app_env         wb, with the environment pointing the Streamlit app (streamlit_app.py) at it
    units           dict: "tinh", "huyen", "xa_a", "xa_b", "other_huyen", "other_xa" -> unit id
    users           dict: "official", "official2", "supervisor", "contractor", "admin",
                    "outsider" (official of other_xa), "other_supervisor" (of other_huyen) -> User
                    (detached; every password is PASSWORD; login works via workbench.accounts.auth)
    sample_book_id  khai_sinh book in xa_a with records of confidences SAMPLE_CONFIDENCES
    other_book_id   khai_sinh book in other_xa (outside everyone's scope but admin/outsider/other_supervisor)
    call            call(fn, *args, **kw): run a service function in its own committed transaction
    build_book      build_book(unit_id, confidences, book_type=..., year=..., ...) -> book id
    world           World: call, users, units and the sample book's ids (a record, its version and page,
                    a QA sample) for the scope tests
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Book, FieldValue, Page, Record, Role, Unit, UnitLevel, User
from tests.backends import PG_URL, fresh_engine
from workbench.accounts.auth import hash_password
from workbench.book_types import get_book_type
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import make_engine, migrate, transaction
from workbench.review import queue, record_view, review
from workbench.supervision import qa

PASSWORD = "matkhau-thu-nghiem"
# WORKBENCH_SERVICES_ON_PG=1 (with WORKBENCH_TEST_PG set) runs every `wb` test on PostgreSQL instead.
SERVICES_ON_PG = bool(os.environ.get("WORKBENCH_SERVICES_ON_PG")) and bool(PG_URL)
SAMPLE_CONFIDENCES = (0.95, 0.99, 0.5, 0.7, 0.92, 0.3)

# Synthetic value per field type (no real person).
SYNTHETIC_VALUES = {
    "registration_no": "12",
    "date": "03/04/2001",
    "person_name": "Trần Thị Mẫu",
    "sex": "Nữ",
    "ethnicity": "Kinh",
    "nationality": "Việt Nam",
    "place": "Xã Tân Lập, huyện Đồng Phú",
    "free_text": "",
}


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated DB file, copied for each test (Alembic runs once per test session)."""
    path = tmp_path_factory.mktemp("template") / "workbench.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # checkpoints the WAL into the main file before it is copied
    return path


@pytest.fixture()
def wb(tmp_path: Path, migrated_template: Path) -> Workbench:
    if SERVICES_ON_PG:  # the same service tests against PostgreSQL (a fresh schema per test)
        fresh_engine("postgresql", tmp_path).dispose()
        settings = Settings(db_url=PG_URL, data_dir=tmp_path / "data")
    else:
        db_path = tmp_path / "workbench.db"
        shutil.copyfile(migrated_template, db_path)
        settings = Settings(db_url=f"sqlite:///{db_path}", data_dir=tmp_path / "data")
    workbench = open_workbench(settings, run_migrations=False)  # already at head
    yield workbench
    workbench.engine.dispose()


@pytest.fixture()
def sessions(wb: Workbench) -> sessionmaker[Session]:
    return wb.sessions


@pytest.fixture()
def app_env(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    """Point the app at the test's database and data folder (read by workbench.config)."""
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    return wb


@pytest.fixture()
def call(sessions: sessionmaker[Session]) -> Callable[..., Any]:
    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with transaction(sessions) as session:
            return fn(session, *args, **kwargs)

    return run


@pytest.fixture()
def units(sessions: sessionmaker[Session]) -> dict[str, int]:
    with transaction(sessions) as session:
        tinh = _unit(session, "Tỉnh Thử Nghiệm", UnitLevel.TINH, None)
        huyen = _unit(session, "Huyện Đồng Phú", UnitLevel.HUYEN, tinh)
        other_huyen = _unit(session, "Huyện Lộc Ninh", UnitLevel.HUYEN, tinh)
        ids = {
            "tinh": tinh.id,
            "huyen": huyen.id,
            "xa_a": _unit(session, "Xã Tân Lập", UnitLevel.XA, huyen).id,
            "xa_b": _unit(session, "Xã Tân Hưng", UnitLevel.XA, huyen).id,
            "other_huyen": other_huyen.id,
            "other_xa": _unit(session, "Xã Lộc Tấn", UnitLevel.XA, other_huyen).id,
        }
    return ids


def _unit(session: Session, name: str, level: str, parent: Unit | None) -> Unit:
    unit = Unit(name=name, level=level, parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    return unit


USER_SPECS = {
    # key: (role, unit names)
    "official": (Role.OFFICIAL, ["Xã Tân Lập"]),
    "official2": (Role.OFFICIAL, ["Xã Tân Lập"]),
    "supervisor": (Role.SUPERVISOR, ["Huyện Đồng Phú"]),
    "contractor": (Role.CONTRACTOR, ["Xã Tân Lập"]),
    "admin": (Role.ADMIN, []),
    "outsider": (Role.OFFICIAL, ["Xã Lộc Tấn"]),
    "other_supervisor": (Role.SUPERVISOR, ["Huyện Lộc Ninh"]),
    "other_contractor": (Role.CONTRACTOR, ["Xã Lộc Tấn"]),
}


@pytest.fixture(scope="session")
def password_hash() -> str:
    """argon2 is deliberately slow: hash PASSWORD once per test session."""
    return hash_password(PASSWORD)


@pytest.fixture()
def users(sessions: sessionmaker[Session], units: dict[str, int], password_hash: str) -> dict[str, User]:
    with transaction(sessions) as session:
        by_name = {unit.name: unit for unit in session.scalars(select(Unit))}
        created = {}
        for key, (role, names) in USER_SPECS.items():
            user = User(username=key, password_hash=password_hash, role=role, full_name=f"Người thử {key}")
            user.units = [by_name[name] for name in names]
            session.add(user)
            created[key] = user
        session.flush()
    return created


def make_official(sessions: sessionmaker[Session], username: str, unit_id: int) -> User:
    """An extra official without argon2 hashing (for tests that need many users quickly)."""
    with transaction(sessions) as session:
        user = User(username=username, password_hash="!", role=Role.OFFICIAL)
        user.units = [session.get(Unit, unit_id)]
        session.add(user)
    return user


def insert_book(
    session: Session,
    unit_id: int,
    confidences: tuple[float, ...] | list[float],
    *,
    book_type: str = "khai_sinh",
    year: int = 2001,
    volume: int = 1,
    rows_per_page: int = 10,
    declared_count: int | None = None,
) -> int:
    """A processed book: pages of `rows_per_page` records, every field of record i at confidences[i]."""
    columns = get_book_type(book_type).columns
    book = Book(unit_id=unit_id, book_type=book_type, year_from=year, volume=volume,
                declared_count=declared_count if declared_count is not None else len(confidences))
    session.add(book)
    session.flush()
    page: Page | None = None
    for index, confidence in enumerate(confidences):
        row = index % rows_per_page + 1
        if row == 1:
            page_index = index // rows_per_page + 1
            sha = f"{book.id:08d}{page_index:056d}"
            page = Page(
                book_id=book.id, original_name=f"trang_{page_index}.jpg", sha256=sha,
                image_path=f"originals/{sha[:2]}/{sha}.jpg", deskewed_path=f"derived/{sha[:2]}/{sha}_f0_deskewed.jpg",
                page_index=page_index, status="done", width=2480, height=1754, deskew_angle=0.4,
            )
            session.add(page)
            session.flush()
        assert page is not None
        top = 300 + (row - 1) * 120
        record = Record(book_id=book.id, page_id=page.id, row_index=row, bbox=[100, top, 2200, 120],
                        confidence=confidence)
        x = 100
        fields = []
        for position, column in enumerate(columns):
            value = SYNTHETIC_VALUES[column.field_type]
            if column.key == "registration_no":
                value = str(index + 1)
            width = int(column.width * 150)
            chars = [[ch, confidence, i * 10, i * 10 + 9] for i, ch in enumerate(value)]
            fields.append(FieldValue(key=column.key, position=position, proposed_value=value, confidence=confidence,
                                     char_confidences=chars, bbox=[x, top, width, 120], engine="synthetic"))
            x += width
        record.fields = fields
        session.add(record)
    session.flush()
    return book.id


@pytest.fixture()
def build_book(sessions: sessionmaker[Session]) -> Callable[..., int]:
    def build(unit_id: int, confidences: tuple[float, ...] | list[float], **kwargs: Any) -> int:
        with transaction(sessions) as session:
            return insert_book(session, unit_id, confidences, **kwargs)

    return build


@pytest.fixture()
def sample_book_id(build_book: Callable[..., int], units: dict[str, int]) -> int:
    return build_book(units["xa_a"], SAMPLE_CONFIDENCES)


@pytest.fixture()
def other_book_id(build_book: Callable[..., int], units: dict[str, int]) -> int:
    return build_book(units["other_xa"], (0.95, 0.4))


def record_ids(sessions: sessionmaker[Session], book_id: int) -> list[int]:
    """The book's record ids in page/row order."""
    with sessions() as session:
        return list(session.scalars(
            select(Record.id).join(Page).where(Record.book_id == book_id).order_by(Page.page_index, Record.row_index)
        ))


@dataclass
class World:
    call: Callable[..., Any]
    users: dict[str, User]
    units: dict[str, int]
    record_id: int  # a record of the sample book in Xã Tân Lập
    version: int
    page_id: int
    book_id: int
    qa_id: int


@pytest.fixture()
def world(call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sample_book_id: int,
          sessions: sessionmaker[Session]) -> World:
    ids = record_ids(sessions, sample_book_id)
    claim = call(queue.claim_record, users["official2"], ids[1])
    call(review.save_record, users["official2"], ids[1], claim.version, {}, "approve")
    [qa_id] = call(qa.draw_qa_sample, users["supervisor"], users["official2"].id, 100)
    view = call(record_view.get_record_view, users["official"], ids[0])
    return World(call, users, units, ids[0], view.version, view.page_id, sample_book_id, qa_id)
