"""The grid editor's service on a real sample page in a real database file: moving a column ruling
re-cuts the cells with ingest's cutter and re-reads them with the ACTIVE model (its version and
calibrator recorded), reviewed records are kept, approved ones refuse, scope is checked, the
registration sequence is rechecked and the audit trail holds the event.

Pages are ingested without OCR (seconds); each correction reads only two or three rows.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, Page, Record, RecordStatus, User
from ocr.confidence import load_calibrator
from ocr.image.loading import InputFile
from ocr.read.engines.asternet import asternet_asset_dir
from workbench.books import BookIdentity
from workbench.context import Workbench
from workbench.db import transaction
from workbench.errors import InvalidActionError, ScopeError
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.intake.segmentation import GridLines, correct_segmentation, load_page_grid
from workbench.review.review import ReviewAction, save_record
from workbench.training.model_registry import activate, register_model

SAMPLE_BOOK = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh"
MODEL = "ft-grid-editor"
FULL_NAME, BIRTH_DATE = 2, 3  # column indexes; column line 3 is the ruling between them


def ingest_pages(wb: Workbench, contractor: User, *names: str) -> list[int]:
    report = ingest_files(wb.sessions, wb.settings.data_dir, [InputFile(n, SAMPLE_BOOK / n) for n in names],
                          identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2003),
                          options=IngestOptions(run_ocr=False), actor=contractor)
    assert report.pages_done == len(names), report.errors
    with wb.sessions() as session:
        return list(session.scalars(select(Page.id).where(Page.book_id == report.book_id).order_by(Page.page_index)))


def activate_copy_of_shipped(wb: Workbench, admin: User) -> None:
    """A registered version (the shipped network) with its own calibrator, made active."""
    assets = asternet_asset_dir()
    calibrator = copy.deepcopy(load_calibrator())  # register_model renames the calibrator it stores
    register_model(wb.settings.data_dir, assets / "asternet.onnx", assets / "vocab.json", {"note": "grid test"},
                   calibration=calibrator, version=MODEL)
    with transaction(wb.sessions) as session:
        activate(session, wb.settings.data_dir, MODEL, admin)


def first_rows(lines: GridLines, rows: int, skip: int = 0) -> GridLines:
    return GridLines(lines.column_lines, lines.row_lines[skip : skip + rows + 1])


def page_records(sessions: sessionmaker[Session], page_id: int) -> list[Record]:
    with sessions() as session:
        records = list(session.scalars(select(Record).where(Record.page_id == page_id).order_by(Record.row_index)))
        for record in records:
            _ = record.fields  # loaded before the session closes
        return records


def values(record: Record) -> dict[str, str]:
    return {f.key: f.proposed_value for f in record.fields}


def test_moving_a_column_ruling_recuts_and_rereads_with_the_active_model(
    wb: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    (page_id,) = ingest_pages(wb, users["contractor"], "page_001.jpg")
    activate_copy_of_shipped(wb, users["admin"])
    with sessions() as session:
        grid = load_page_grid(session, users["contractor"], page_id)
    assert grid.source == "rulings" and len(grid.lines.column_lines) == 13 and len(grid.lines.row_lines) == 11
    assert grid.records == 10 and grid.approved == 0 and grid.model_version is None  # ingested without OCR
    detected = first_rows(grid.lines, 2)

    before = correct_segmentation(sessions, users["contractor"], page_id, detected, wb.settings.data_dir)
    assert before.model_version == MODEL
    assert (before.records_created, before.records_replaced, before.records_kept) == (2, 10, 0)
    read_before = [values(r) for r in page_records(sessions, page_id)]
    assert [v["registration_no"] for v in read_before] == ["1", "2"]  # read, not keyed: no-OCR left them empty

    cols = list(detected.column_lines)
    cols[BIRTH_DATE] = (cols[FULL_NAME] + cols[BIRTH_DATE]) // 2  # halfway into the names
    moved = GridLines(tuple(cols), detected.row_lines)
    after = correct_segmentation(sessions, users["contractor"], page_id, moved, wb.settings.data_dir)
    assert after.records_created == 2 and after.model_version == MODEL
    records = page_records(sessions, page_id)
    for record in records:
        boxes = {f.key: f.bbox for f in record.fields}
        assert boxes["full_name"][2] == cols[BIRTH_DATE] - cols[FULL_NAME]  # the cell was cut at the new ruling
        assert boxes["birth_date"][0] == cols[BIRTH_DATE]
    read_after = [values(r) for r in records]
    for old, new, record in zip(read_before, read_after, records, strict=True):
        # Half of each name now lies in the birth-date cell: the name reads otherwise, and the date cell
        # either reads otherwise too or is not proposed as sure (the second reader may still find the
        # date among the name's strokes, doubtfully).
        assert new["full_name"] != old["full_name"]
        birth_date = next(f for f in record.fields if f.key == "birth_date")
        assert new["birth_date"] != old["birth_date"] or birth_date.confidence < 0.9
        assert new["registration_no"] == old["registration_no"]

    with sessions() as session:
        page = session.get(Page, page_id)
        assert page.model_version == MODEL and "manual_grid" in page.warnings
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "correct_segmentation")
                                .order_by(AuditEvent.id.desc())).first()
        assert event.user_id == users["contractor"].id and event.entity_id == page_id
        assert event.new_value["column_lines"] == cols and event.new_value["row_lines"] == list(detected.row_lines)
        assert event.new_value["model_version"] == MODEL
        assert event.old_value["column_lines"] == list(detected.column_lines)
        # The recognition step names the model's own calibrator, not the default one.
        recognition = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == page_id,
                                                               AuditEvent.step_name == "recognition")
                                      .order_by(AuditEvent.id.desc())).first()
        assert recognition.step_settings["calibration"] == f"{MODEL}-calibration"
        # The editor starts from the person's grid next time.
        grid = load_page_grid(session, users["contractor"], page_id)
    assert grid.source == "manual" and grid.lines == moved


def test_reviewed_records_are_kept_and_approved_records_refuse(
    wb: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    (page_id,) = ingest_pages(wb, users["contractor"], "page_001.jpg")
    with sessions() as session:
        lines = load_page_grid(session, users["contractor"], page_id).lines
    first = page_records(sessions, page_id)[0]
    with transaction(sessions) as session:  # an official keys the first row's name and keeps the record
        save_record(session, users["official"], first.id, first.version, {"full_name": "Nguyễn Minh Hạnh"},
                    ReviewAction.SAVE)
    with sessions() as session:
        assert load_page_grid(session, users["contractor"], page_id).kept == 1

    result = correct_segmentation(sessions, users["contractor"], page_id, first_rows(lines, 3), wb.settings.data_dir)
    assert (result.records_kept, result.rows_skipped, result.records_created, result.records_replaced) == (1, 1, 2, 9)
    records = page_records(sessions, page_id)
    assert [r.row_index for r in records] == [1, 2, 3]
    kept = records[0]
    assert kept.id == first.id and kept.status == RecordStatus.IN_REVIEW
    name = kept.field_map()["full_name"]
    assert (name.final_value, name.status) == ("Nguyễn Minh Hạnh", FieldStatus.CORRECTED)
    assert [values(r)["registration_no"] for r in records[1:]] == ["2", "3"]

    with transaction(sessions) as session:  # test set-up: a supervisor-approved record on the page
        session.get(Record, records[1].id).status = RecordStatus.APPROVED
    with sessions() as session:
        assert not load_page_grid(session, users["contractor"], page_id).correctable
    with pytest.raises(InvalidActionError) as refused:
        correct_segmentation(sessions, users["contractor"], page_id, first_rows(lines, 2), wb.settings.data_dir)
    assert "bản ghi được duyệt" in refused.value.message_vi
    assert [r.id for r in page_records(sessions, page_id)] == [r.id for r in records]  # nothing changed


def test_scope_and_impossible_lines_are_refused_before_any_reading(
    wb: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    (page_id,) = ingest_pages(wb, users["contractor"], "page_001.jpg")
    with sessions() as session:
        lines = load_page_grid(session, users["contractor"], page_id).lines
        for outsider in ("other_contractor", "official", "supervisor"):
            with pytest.raises(ScopeError):
                load_page_grid(session, users[outsider], page_id)
        assert load_page_grid(session, users["admin"], page_id).page_id == page_id
    data_dir = wb.settings.data_dir
    for outsider in ("other_contractor", "official"):
        with pytest.raises(ScopeError):
            correct_segmentation(sessions, users[outsider], page_id, lines, data_dir)
    cols, rows = lines.column_lines, lines.row_lines
    for bad, says in ((GridLines(cols[:-1], rows), "Cần đúng 13 đường dọc"),
                      (GridLines(cols, rows[:1]), "ít nhất hai đường ngang"),
                      (GridLines(cols, (rows[1], rows[0])), "tăng dần"),
                      (GridLines(cols, (rows[0], rows[0] + 3)), "tăng dần"),
                      (GridLines(cols, (rows[0], 99_999)), "nằm trong trang")):
        with pytest.raises(InvalidActionError) as refused:
            correct_segmentation(sessions, users["contractor"], page_id, bad, data_dir)
        assert says in refused.value.message_vi
    with sessions() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "correct_segmentation")) is None
    assert len(page_records(sessions, page_id)) == 10  # untouched


def test_registration_gaps_are_rechecked_after_a_correction(
    wb: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    first, second = ingest_pages(wb, users["contractor"], "page_001.jpg", "page_002.jpg")
    with sessions() as session:
        lines = {p: load_page_grid(session, users["contractor"], p).lines for p in (first, second)}
    data_dir = wb.settings.data_dir
    correct_segmentation(sessions, users["contractor"], first, first_rows(lines[first], 2), data_dir)  # 1, 2
    # Page 2 cut without its first row (registration 11): page 1 now ends at 2, page 2 starts at 12.
    correct_segmentation(sessions, users["contractor"], second, first_rows(lines[second], 2, skip=1), data_dir)

    def gaps() -> list[str]:
        with sessions() as session:
            return [w for w in session.get(Page, second).warnings if w.startswith("registration_no_gap:")]

    assert [g.split(":")[1] for g in gaps()] == ["3-11"]
    correct_segmentation(sessions, users["contractor"], second, first_rows(lines[second], 2), data_dir)  # 11, 12
    assert [g.split(":")[1] for g in gaps()] == ["3-10"]
