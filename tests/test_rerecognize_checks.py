"""Re-recognition applies the record and page checks ingest applies (issue #13): a re-read field its
record contradicts, or a registration date out of its page's order, never comes back green.

Real images and the real recognizer: a generated khai_sinh page whose ink is moved between cells
(row 1's birth and registration dates swapped: a birth after the registration; rows 2 and 3's
registration dates swapped: out of the page's order), stored without OCR in a real SQLite file,
then read again by the re-recognition job (the shipped model, its calibrator).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from models import FieldStatus, FieldValue, Record, User
from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE, ConfidenceBands
from ocr.image.loading import InputFile
from ocr.layout.page import analyze_page
from ocr.types import Box
from samples.render import PageOptions, render_page
from workbench.book_types import get_book_type
from workbench.books import BookIdentity
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.training.rerecognize import RerecognitionReport, rerecognize_with_version

HIGH = ConfidenceBands().high
BIRTH_AFTER_REGISTRATION = "Ngày sinh sau ngày đăng ký"
OUT_OF_ORDER = "Ngày đăng ký không theo thứ tự"
MARGIN = 5  # px inside a cell's box: clear of its rulings


def _ink(page: np.ndarray, box: Box) -> np.ndarray:
    """The writing in a cell, cropped to its ink."""
    crop = page[box.y + MARGIN : box.y + box.h - MARGIN, box.x + MARGIN : box.x + box.w - MARGIN]
    ys, xs = np.nonzero(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) < 170)
    return crop[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()


def _write(page: np.ndarray, box: Box, ink: np.ndarray) -> None:
    """Blank the cell and write ``ink`` into it (scaled down to fit), left-aligned and centred in height."""
    page[box.y + MARGIN : box.y + box.h - MARGIN, box.x + MARGIN : box.x + box.w - MARGIN] = 245
    scale = min(1.0, (box.w - 2 * MARGIN - 4) / ink.shape[1], (box.h - 2 * MARGIN - 4) / ink.shape[0])
    if scale < 1:
        ink = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    top, left = box.y + (box.h - ink.shape[0]) // 2, box.x + MARGIN + 2
    region = page[top : top + ink.shape[0], left : left + ink.shape[1]]
    region[:] = np.minimum(region, ink)


def _swap(page: np.ndarray, a: Box, b: Box) -> None:
    ink_a, ink_b = _ink(page, a), _ink(page, b)
    _write(page, a, ink_b)
    _write(page, b, ink_a)


@pytest.fixture(scope="module")
def contradicted_page() -> tuple[bytes, list[dict[str, str]]]:
    """A 3-row page whose row 1 shows a birth after the registration and whose rows 2 and 3 are out of
    date order; with the dates each cell now shows, by row."""
    layout = get_book_type("khai_sinh").layout
    image, truth = render_page("khai_sinh", 7, PageOptions(filled_rows=3, skew_deg=0.0, stains=0, noise=2.0,
                                                            blur=0.3, light=0.05, jpeg_quality=100))
    dates = [{key: r["fields"][key]["value"] for key in ("registration_date", "birth_date")} for r in truth["records"]]
    analysis = analyze_page(image, layout)
    assert len(analysis.records) == 3
    cells = [{c.key: c.box for c in r.cells} for r in analysis.records]
    page = analysis.deskewed.copy()
    _swap(page, cells[0]["registration_date"], cells[0]["birth_date"])
    _swap(page, cells[1]["registration_date"], cells[2]["registration_date"])
    shown = [
        {"registration_date": dates[0]["birth_date"], "birth_date": dates[0]["registration_date"]},
        {"registration_date": dates[2]["registration_date"], "birth_date": dates[1]["birth_date"]},
        {"registration_date": dates[1]["registration_date"], "birth_date": dates[2]["birth_date"]},
    ]
    # The generated dates make the contradictions sure: the page runs forward, births come first.
    day = [datetime.strptime(r["registration_date"], "%d/%m/%Y") for r in dates]
    assert day[0] < day[1] < day[2]
    ok, png = cv2.imencode(".png", page)
    assert ok
    return png.tobytes(), shown


def _fields(wb: Workbench, book_id: int) -> dict[tuple[int, str], FieldValue]:
    with wb.sessions() as session:
        rows = session.scalars(select(FieldValue).join(Record).where(Record.book_id == book_id))
        found = {(f.record.row_index, f.key): f for f in rows}
        session.expunge_all()
    return found


@pytest.fixture(scope="module")
def reread(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path,
           contradicted_page: tuple[bytes, list[dict[str, str]]]) -> Any:
    """The page stored without OCR in two books, then read again by the re-recognition job. In the
    second book an official has already decided row 1's registration date (what its cell shows); a
    third book holds the same page read at ingest, for comparison."""
    root = tmp_path_factory.mktemp("rerecognize_checks")
    shutil.copyfile(migrated_template, root / "workbench.db")
    wb = open_workbench(Settings(db_url=f"sqlite:///{root / 'workbench.db'}", data_dir=root / "data"),
                        run_migrations=False)
    png, shown = contradicted_page
    data_dir = wb.settings.data_dir

    def ingest(unit: str, run_ocr: bool) -> int:
        report = ingest_files(wb.sessions, data_dir, [InputFile("trang_1.png", data=png)],
                              identity=BookIdentity(unit, "khai_sinh", 2003),
                              options=IngestOptions(run_ocr=run_ocr, ocr_threads=1))
        assert report.pages_done == 1 and report.records_created == 3
        return report.book_id

    books = {"open": ingest("Xã Tân Lập", False), "decided": ingest("Xã Tân Hưng", False)}
    with transaction(wb.sessions) as session:
        official = User(username="canbo", password_hash="!", role="official")
        session.add(official)
        session.flush()
        decided = session.scalars(select(FieldValue).join(Record).where(
            Record.book_id == books["decided"], Record.row_index == 1, FieldValue.key == "registration_date")).one()
        decided.status, decided.final_value = FieldStatus.CORRECTED, shown[0]["registration_date"]
        decided.edited_by_id, decided.edited_at = official.id, datetime.now(UTC)
    report = rerecognize_with_version(wb.sessions, data_dir, threads=1, book_ids=list(books.values()))
    books["ingested"] = ingest("Xã Lộc Tấn", True)
    yield wb, books, report
    wb.engine.dispose()


def test_a_reread_birth_after_the_registration_is_capped_with_the_reason(reread: Any) -> None:
    wb, books, report = reread
    assert isinstance(report, RerecognitionReport) and report.pages == 2 and not report.pages_failed
    fields = _fields(wb, books["open"])
    birth = fields[(1, "birth_date")]
    assert birth.status == FieldStatus.PROPOSED and birth.proposed_value  # read again, not reviewed
    assert birth.confidence <= CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert BIRTH_AFTER_REGISTRATION in birth.messages
    assert BIRTH_AFTER_REGISTRATION not in fields[(1, "registration_date")].messages  # only the birth is named
    with wb.sessions() as session:  # the queue sees the record's weakest field
        record = session.scalars(select(Record).where(Record.book_id == books["open"], Record.row_index == 1)).one()
        assert record.confidence < HIGH


def test_a_field_an_officials_decided_value_contradicts_is_capped_too(reread: Any) -> None:
    """The checks see the record whole: a decided registration date (not read again) still counts."""
    wb, books, _ = reread
    fields = _fields(wb, books["decided"])
    registration = fields[(1, "registration_date")]
    assert registration.status == FieldStatus.CORRECTED and registration.final_value  # left alone
    birth = fields[(1, "birth_date")]
    assert birth.status == FieldStatus.PROPOSED
    assert birth.confidence <= CONTRADICTION_MAX_CONFIDENCE and BIRTH_AFTER_REGISTRATION in birth.messages


def test_a_reread_registration_date_out_of_the_pages_order_is_capped_with_the_reason(reread: Any) -> None:
    wb, books, _ = reread
    fields = _fields(wb, books["open"])
    for row in (2, 3):  # two rows, nothing says which one is wrong: both are named
        registration = fields[(row, "registration_date")]
        assert registration.confidence <= CONTRADICTION_MAX_CONFIDENCE < HIGH
        assert any(m.startswith(OUT_OF_ORDER) for m in registration.messages)
    assert not any(m.startswith(OUT_OF_ORDER) for m in fields[(1, "registration_date")].messages)
    assert not any(m.startswith(OUT_OF_ORDER) for (_, key), f in fields.items() if key != "registration_date"
                   for m in f.messages)


def test_rereading_names_the_same_contradictions_as_ingest(reread: Any) -> None:
    wb, books, _ = reread
    reasons = (BIRTH_AFTER_REGISTRATION, OUT_OF_ORDER)

    def contradicted(book_id: int) -> set[tuple[int, str]]:
        return {place for place, f in _fields(wb, book_id).items()
                if any(m.startswith(reasons) for m in f.messages) and f.confidence < HIGH}

    assert contradicted(books["open"]) == contradicted(books["ingested"]) == {
        (1, "birth_date"), (2, "registration_date"), (3, "registration_date")}
