"""The supervisors' low-confidence queue ranks by the expected number of wrong fields (issue #16 item 2).

The rules are pure (workbench.review.queue.record_risk / rank_by_expected_errors); the service is checked
on a real database holding two real sample pages read by the real OCR pipeline (one birth, one
marriage page: ingested once per module, ~20 s on two cores, then the database file is copied for
each test).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import FieldStatus, FieldValue, Record, RecordStatus, User
from ocr.image.loading import iter_input_files
from ocr.recognition import EMPTY_CELL_CONFIDENCE, EMPTY_WITH_INK_CONFIDENCE
from workbench.accounts.auth import create_user
from workbench.book_types import get_book_type
from workbench.books import BookIdentity, get_or_create_unit
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.queue import (
    FieldEvidence,
    field_error_probability,
    rank_by_expected_errors,
    record_risk,
    release_claim,
)
from workbench.review.review import ReviewAction, save_record
from workbench.supervision.supervision import flagged_queue, low_confidence_queue, reassign

ROOT = Path(__file__).resolve().parents[1]
UNIT, OTHER_UNIT = "Xã Đại Lãnh", "Xã Vạn Thọ"
THRESHOLD = 0.6
PAGES = {"khai_sinh": ROOT / "samples/books/khai_sinh/page_001.jpg",
         "ket_hon": ROOT / "samples/books/ket_hon/page_001.jpg"}


def evidence(confidence: float, value: str = "x", settled: bool = False, key: str = "k") -> FieldEvidence:
    return FieldEvidence(key, "person_name", value, confidence, settled)


def test_field_error_probability_counts_doubt_once_and_settled_fields_not_at_all() -> None:
    assert field_error_probability(evidence(0.8)) == pytest.approx(0.2)
    assert field_error_probability(evidence(0.01, settled=True)) == 0.0  # a person read it on the page
    # A clean blank barely counts; a blank with writing-like ink is the likely miss it is.
    assert field_error_probability(evidence(EMPTY_CELL_CONFIDENCE, "")) == pytest.approx(0.03)
    assert field_error_probability(evidence(EMPTY_WITH_INK_CONFIDENCE, "")) == pytest.approx(0.7)
    risk = record_risk(7, [evidence(0.9, key="a"), evidence(EMPTY_WITH_INK_CONFIDENCE, "", key="b"),
                           evidence(0.2, settled=True, key="c")])
    assert risk.expected_wrong == pytest.approx(0.1 + 0.7)
    assert [f.key for f in risk.weak_fields(THRESHOLD)] == ["b"] and risk.weak_fields(THRESHOLD)[0].empty


def test_ranking_prefers_many_doubtful_fields_over_one_hopeless_field() -> None:
    # The old queue (weakest field first) put `one_bad` first: its min is 0.01 against 0.3.
    one_bad = record_risk(1, [evidence(0.01)] + [evidence(0.99)] * 9)  # ~1.08 fields expected wrong
    many_doubtful = record_risk(2, [evidence(0.3)] * 4 + [evidence(0.95)] * 6)  # ~3.1
    tie_a, tie_b = record_risk(4, [evidence(0.5)] * 2), record_risk(3, [evidence(0.5)] * 2)
    ranked = rank_by_expected_errors([one_bad, tie_a, many_doubtful, tie_b])
    assert [r.record_id for r in ranked] == [2, 1, 3, 4]


# --- the service on real pages --------------------------------------------------------------------

@dataclass
class RealDb:
    wb: Workbench
    books: dict[str, int]
    users: dict[str, User]

    def call(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        with transaction(self.wb.sessions) as session:
            return fn(session, *args, **kwargs)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, int]]]:
    folder = tmp_path_factory.mktemp("ranking")
    wb = open_workbench(Settings(db_url=f"sqlite:///{folder / 'wb.db'}", data_dir=folder / "data"))
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, UNIT)
        get_or_create_unit(session, OTHER_UNIT)
        create_user(session, "canbo", "mat-khau-1", "official", [UNIT], full_name="Cán bộ Một")
        create_user(session, "totruong", "mat-khau-2", "supervisor", [UNIT], full_name="Tổ trưởng")
        create_user(session, "totruong_khac", "mat-khau-3", "supervisor", [OTHER_UNIT])
    books = {}
    for book_type, page in PAGES.items():
        report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files([page]),
                              identity=BookIdentity(UNIT, book_type, 2003), options=IngestOptions(ocr_threads=2))
        assert report.pages_done == 1 and report.records_created >= 5, report.errors
        books[book_type] = report.book_id
    wb.engine.dispose()
    yield folder / "wb.db", folder / "data", books


@pytest.fixture()
def db(ingested: tuple[Path, Path, dict[str, int]], tmp_path: Path) -> Iterator[RealDb]:
    source, data_dir, books = ingested
    shutil.copyfile(source, tmp_path / "wb.db")
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'wb.db'}", data_dir=data_dir), run_migrations=False)
    with wb.sessions() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        session.expunge_all()
    yield RealDb(wb, books, users)
    wb.engine.dispose()


def recomputed(session: Session, threshold: float) -> dict[int, float]:
    """Expected wrong fields of every open record with an unsettled field below the threshold, from the rows."""
    sums: dict[int, float] = {}
    weak: set[int] = set()
    for record_id, status, confidence in session.execute(
        select(FieldValue.record_id, FieldValue.status, FieldValue.confidence).join(Record)
        .where(Record.status.in_((RecordStatus.PROPOSED, RecordStatus.IN_REVIEW)))
    ):
        unsettled = status == FieldStatus.PROPOSED
        sums[record_id] = sums.get(record_id, 0.0) + (1.0 - confidence if unsettled else 0.0)
        if unsettled and confidence < threshold:
            weak.add(record_id)
    return {rid: total for rid, total in sums.items() if rid in weak}


def test_real_pages_come_ranked_by_expected_wrong_fields(db: RealDb) -> None:
    rows = db.call(low_confidence_queue, db.users["totruong"], THRESHOLD, 500)
    with db.wb.sessions() as session:
        expected = recomputed(session, THRESHOLD)
        mins = dict(session.execute(select(Record.id, Record.confidence)).all())
    assert len(rows) >= 5 and {r.record_id for r in rows} == set(expected)
    assert [r.expected_wrong for r in rows] == pytest.approx([expected[r.record_id] for r in rows])
    assert all(a.expected_wrong >= b.expected_wrong - 1e-9 for a, b in zip(rows, rows[1:], strict=False))
    for row in rows:
        assert row.weak_fields and all(f.confidence < THRESHOLD for f in row.weak_fields)
        assert [f.p_wrong for f in row.weak_fields] == sorted((f.p_wrong for f in row.weak_fields), reverse=True)
    # What the old order (weakest field first) got wrong on these real pages: it is not this order.
    by_min = sorted(rows, key=lambda r: (mins[r.record_id], r.record_id))
    assert [r.record_id for r in by_min] != [r.record_id for r in rows]


def test_filters_by_book_field_type_and_official(db: RealDb) -> None:
    supervisor = db.users["totruong"]
    everything = db.call(low_confidence_queue, supervisor, THRESHOLD, 500)
    for book_type, book_id in db.books.items():
        in_book = db.call(low_confidence_queue, supervisor, THRESHOLD, 500, book_id=book_id)
        assert in_book and {r.book_id for r in in_book} == {book_id}, book_type
        assert [r.record_id for r in in_book] == [r.record_id for r in everything if r.book_id == book_id]
    names = db.call(low_confidence_queue, supervisor, THRESHOLD, 500, field_type="person_name")
    types = {bt: {c.key: c.field_type for c in get_book_type(bt).columns} for bt in db.books}
    book_types = {book_id: bt for bt, book_id in db.books.items()}

    def weak_name(row) -> bool:  # type: ignore[no-untyped-def]
        return any(types[book_types[row.book_id]][f.key] == "person_name" for f in row.weak_fields)

    assert names and [r.record_id for r in names] == [r.record_id for r in everything if weak_name(r)]
    official = db.users["canbo"]
    assert db.call(low_confidence_queue, supervisor, THRESHOLD, 500, official_id=official.id) == []
    held, typed_in = everything[0], everything[1]
    db.call(reassign, supervisor, held.record_id, official.id)
    with db.wb.sessions() as session:
        version = session.get(Record, typed_in.record_id).version
    db.call(reassign, supervisor, typed_in.record_id, official.id, expected_version=version)
    with db.wb.sessions() as session:
        version = session.get(Record, typed_in.record_id).version
    # The official corrects one strong field of typed_in and puts it down: still theirs, by what they typed.
    strong = next(f for f in sorted(typed_in.field_labels) if f[0] not in {w.key for w in typed_in.weak_fields})
    db.call(save_record, official, typed_in.record_id, version, {strong[0]: "Sửa thử"}, ReviewAction.SAVE)
    db.call(release_claim, official, typed_in.record_id)
    with db.wb.sessions() as session:
        assert session.get(Record, typed_in.record_id).assigned_to_id is None
    mine = db.call(low_confidence_queue, supervisor, THRESHOLD, 500, official_id=official.id)
    assert {r.record_id for r in mine} == {held.record_id, typed_in.record_id}
    assert all(r.official_id == official.id for r in mine)


def test_a_settled_field_stops_counting(db: RealDb) -> None:
    supervisor, official = db.users["totruong"], db.users["canbo"]
    top = db.call(low_confidence_queue, supervisor, THRESHOLD, 500)[0]
    worst = top.weak_fields[0]
    db.call(reassign, supervisor, top.record_id, official.id)
    with db.wb.sessions() as session:
        version = session.get(Record, top.record_id).version
    db.call(save_record, official, top.record_id, version, {worst.key: worst.proposed_value or "Nguyễn Văn An"},
            ReviewAction.SAVE)
    after = {r.record_id: r for r in db.call(low_confidence_queue, supervisor, THRESHOLD, 500)}
    if top.record_id in after:  # it may have had one weak field only
        assert after[top.record_id].expected_wrong == pytest.approx(top.expected_wrong - worst.p_wrong)
        assert worst.key not in {f.key for f in after[top.record_id].weak_fields}
    else:
        assert len(top.weak_fields) == 1


def test_scope_and_flagged_queue_says_who_and_when(db: RealDb) -> None:
    assert db.call(low_confidence_queue, db.users["totruong_khac"], 1.0) == []
    supervisor, official = db.users["totruong"], db.users["canbo"]
    record = db.call(low_confidence_queue, supervisor, THRESHOLD)[0]
    db.call(reassign, supervisor, record.record_id, official.id)
    with db.wb.sessions() as session:
        version = session.get(Record, record.record_id).version
    db.call(save_record, official, record.record_id, version, {}, ReviewAction.FLAG, reason="Chữ mờ")
    flagged = db.call(flagged_queue, supervisor)
    assert [(f.record_id, f.flagged_by, f.flagged_by_id, f.flag_reason) for f in flagged] == [
        (record.record_id, "canbo", official.id, "Chữ mờ")]
    assert flagged[0].flagged_at is not None and flagged[0].flagged_at.tzinfo is not None
    assert record.record_id not in {r.record_id for r in db.call(low_confidence_queue, supervisor, THRESHOLD)}


# --- pages uploaded without recognition: nothing was read -----------------------------------------

def test_a_never_read_field_is_certainly_wrong_and_not_a_doubtful_empty() -> None:
    unread = FieldEvidence("k", "person_name", "", 0.0, settled=False, read=False)
    assert field_error_probability(unread) == 1.0
    # Whatever confidence was stored with it, nothing vouches for it; a person settling it still counts.
    assert field_error_probability(FieldEvidence("k", "person_name", "", EMPTY_CELL_CONFIDENCE, False, False)) == 1.0
    assert field_error_probability(FieldEvidence("k", "person_name", "", 0.0, True, False)) == 0.0
    risk = record_risk(9, [evidence(0.9, key="a"), FieldEvidence("b", "person_name", "", 0.0, False, False),
                           evidence(EMPTY_WITH_INK_CONFIDENCE, "", key="c")])
    assert risk.expected_wrong == pytest.approx(0.1 + 1.0 + 0.7)
    assert [(f.key, f.empty, f.unread) for f in risk.weak_fields(THRESHOLD)] == [
        ("b", True, True), ("c", True, False)]


@pytest.fixture()
def unread_db(tmp_path: Path) -> Iterator[RealDb]:
    """A real SQLite database holding one birth page uploaded without recognition (run_ocr False)."""
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'wb.db'}", data_dir=tmp_path / "data"))
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, UNIT)
        create_user(session, "totruong", "mat-khau-2", "supervisor", [UNIT])
    report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files([PAGES["khai_sinh"]]),
                          identity=BookIdentity(UNIT, "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.pages_done == 1 and report.records_created >= 5, report.errors
    with wb.sessions() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        session.expunge_all()
    yield RealDb(wb, {"khai_sinh": report.book_id}, users)
    wb.engine.dispose()


def test_fields_of_a_page_uploaded_without_recognition_are_not_read_not_doubtful_empties(unread_db: RealDb) -> None:
    with unread_db.wb.sessions() as session:  # what ingest stores when nothing was read
        stored = set(session.execute(select(FieldValue.proposed_value, FieldValue.confidence, FieldValue.engine)))
    assert stored == {("", 0.0, None)}
    rows = unread_db.call(low_confidence_queue, unread_db.users["totruong"], THRESHOLD, 500)
    fields = len(get_book_type("khai_sinh").columns)
    assert len(rows) >= 5
    for row in rows:  # every field is named "not read" and counts as wrong for certain
        assert row.expected_wrong == pytest.approx(fields)
        assert len(row.weak_fields) == fields
        assert all(f.unread and f.p_wrong == 1.0 for f in row.weak_fields)


def test_never_read_fields_rank_as_likely_wrong_in_the_database_order_too(unread_db: RealDb) -> None:
    """The database picks the top `limit` by the same rule: a never-read field counts 1, whatever
    confidence it was stored with; read fields keep 1 - confidence."""
    supervisor = unread_db.users["totruong"]
    with transaction(unread_db.wb.sessions) as session:
        records = list(session.scalars(select(Record).order_by(Record.row_index)).unique())
        unread_left, doubtful = records[0], records[1]
        for record in records:  # read by the recognizer, all sure: out of the queue
            for field in record.fields:
                field.proposed_value, field.confidence, field.engine = "x", 0.99, "asternet"
        # One field never read (stored with a middling confidence), the rest read and sure: 1 + 11 x 0.01.
        blank = unread_left.fields[0]
        blank.proposed_value, blank.confidence, blank.engine = "", 0.5, None
        # Two read fields at 0.55 (one a doubtful empty): 0.9 + 10 x 0.01; ahead under the old rule (0.61).
        doubtful.fields[0].proposed_value, doubtful.fields[0].confidence = "", 0.55
        doubtful.fields[1].confidence = 0.55
        for record in records:
            record.confidence = min(f.confidence for f in record.fields)
    fields = len(unread_left.fields)
    rows = unread_db.call(low_confidence_queue, supervisor, THRESHOLD, 500)
    assert [r.record_id for r in rows] == [unread_left.id, doubtful.id]
    assert rows[0].expected_wrong == pytest.approx(1.0 + (fields - 1) * 0.01)
    assert rows[1].expected_wrong == pytest.approx(0.9 + (fields - 2) * 0.01)
    assert [(f.unread, f.empty) for f in rows[0].weak_fields] == [(True, True)]
    assert [(f.unread, f.empty) for f in rows[1].weak_fields] == [(False, True), (False, False)]
    top = unread_db.call(low_confidence_queue, supervisor, THRESHOLD, 1)  # the database's own cut
    assert [r.record_id for r in top] == [unread_left.id]
