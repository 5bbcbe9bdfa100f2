"""Correcting a page's grid: lines validated, records and cell boxes rebuilt, audited, work protected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ocr.page
from models import AuditEvent, Page, Record, User
from ocr.types import Box, CellImage, LedgerLayout, RecordRegion
from workbench.book_types import get_book_type
from workbench.context import Workbench
from workbench.errors import InvalidActionError, ScopeError
from workbench.queue import next_record
from workbench.review import save_record
from workbench.segmentation import GridLines, correct_segmentation

COLUMNS = len(get_book_type("khai_sinh").columns)


def boxes_from_lines(image: np.ndarray, layout: LedgerLayout, cols: list[int], rows: list[int]) -> list[RecordRegion]:
    """Geometry only (empty cells): enough to check what the service stores, no accuracy claim."""
    return [
        RecordRegion(
            row_index=band + 1,
            box=Box(cols[0], rows[band], cols[-1] - cols[0], rows[band + 1] - rows[band]),
            cells=[CellImage(c.key, Box(cols[i], rows[band], cols[i + 1] - cols[i], rows[band + 1] - rows[band]))
                   for i, c in enumerate(layout.columns)],
        )
        for band in range(len(rows) - 1)
    ]


@pytest.fixture()
def page_id(wb: Workbench, sample_book_id: int, sessions: sessionmaker[Session]) -> int:
    """The sample book's page, with a real (blank) deskewed image file in the data directory."""
    with sessions() as session:
        page = session.scalar(select(Page).where(Page.book_id == sample_book_id))
        target = wb.settings.data_dir / page.deskewed_path
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), np.full((page.height, page.width, 3), 255, np.uint8))
        return page.id


def _lines(rows: int = 3) -> GridLines:
    return GridLines(tuple(100 + 180 * i for i in range(COLUMNS + 1)), tuple(400 + 110 * i for i in range(rows + 1)))


def test_correction_rebuilds_records_from_the_given_lines(
    wb: Workbench, users: dict[str, User], page_id: int, sessions: sessionmaker[Session],
) -> None:
    lines = _lines(rows=3)
    count = correct_segmentation(sessions, users["contractor"], page_id, lines, wb.settings.data_dir,
                                 segmenter=boxes_from_lines)
    assert count == 3
    with sessions() as session:
        records = list(session.scalars(select(Record).where(Record.page_id == page_id).order_by(Record.row_index)))
        assert [r.bbox for r in records] == [[100, 400 + 110 * i, 180 * COLUMNS, 110] for i in range(3)]
        assert [f.bbox for f in records[1].fields][:2] == [[100, 510, 180, 110], [280, 510, 180, 110]]
        assert {f.proposed_value for r in records for f in r.fields} == {""}  # no recognizer: officials key
        page = session.get(Page, page_id)
        assert "manual_grid" in page.warnings
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "correct_segmentation"))
        assert event.user_id == users["contractor"].id and event.new_value["row_lines"] == list(lines.row_lines)


def test_bad_lines_other_units_and_reviewed_pages_are_refused(
    wb: Workbench, call: Callable[..., Any], users: dict[str, User], page_id: int,
    sessions: sessionmaker[Session],
) -> None:
    data_dir = wb.settings.data_dir
    good = _lines()
    for bad in (GridLines(good.column_lines[:-1], good.row_lines),
                GridLines(good.column_lines, (500, 400)),
                GridLines(good.column_lines, (400, 99999))):
        with pytest.raises(InvalidActionError):
            correct_segmentation(sessions, users["contractor"], page_id, bad, data_dir, segmenter=boxes_from_lines)
    with pytest.raises(ScopeError):
        correct_segmentation(sessions, users["other_contractor"], page_id, good, data_dir, segmenter=boxes_from_lines)
    claim = call(next_record, users["official"])
    call(save_record, users["official"], claim.record_id, claim.version, {}, "approve")
    with pytest.raises(InvalidActionError):
        correct_segmentation(sessions, users["contractor"], page_id, good, data_dir, segmenter=boxes_from_lines)
    assert correct_segmentation(sessions, users["contractor"], page_id, good, data_dir,
                                segmenter=boxes_from_lines, force=True) == 3


@pytest.mark.skipif(hasattr(ocr.page, "records_from_lines"), reason="the OCR segmenter exists")
def test_without_the_ocr_segmenter_correction_says_it_is_not_available(
    wb: Workbench, users: dict[str, User], page_id: int, sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(InvalidActionError) as raised:
        correct_segmentation(sessions, users["contractor"], page_id, _lines(), wb.settings.data_dir)
    assert "chưa sẵn sàng" in raised.value.message_vi
