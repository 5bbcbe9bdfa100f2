"""Correcting a page's segmentation when the grid was missed: the contractor gives the column and
row line positions, the page's records and cell boxes are rebuilt and its cells re-recognised.

The pixel work is the OCR package's: a `GridSegmenter` turns the deskewed page plus the given lines
into RecordRegions with cell crops. The default one is `ocr.page.records_from_lines` (TODO for the
page-pipeline issue: until it exists, correction refuses with a clear message). No DB transaction
is held while recognising; the result replaces the page's records atomically through
`workbench.ingest.save_outcome`, like a normal ingest pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from models import Page, PageStatus, User
from ocr.engines.base import Recognizer
from ocr.pipeline import PageOutcome, empty_proposals
from ocr.recognition import propose_page
from ocr.types import LedgerLayout, PageAnalysis, ProcessingStep, RecordRegion
from workbench.audit import record_event
from workbench.book_types import get_book_type
from workbench.contractor import refuse_if_worked
from workbench.db import transaction
from workbench.errors import InvalidActionError
from workbench.ingest import save_outcome
from workbench.lexicon_growth import local_lexicon_for_unit
from workbench.scope import CONTRACTORS, load_scope, page_in_scope

# (deskewed page BGR, layout, column x lines, row y lines) -> records with their cells cut out
GridSegmenter = Callable[[np.ndarray, LedgerLayout, list[int], list[int]], list[RecordRegion]]
MANUAL_GRID_WARNING = "manual_grid"


@dataclass(frozen=True)
class GridLines:
    """Line positions in deskewed-page pixels: len(columns) + 1 verticals, at least two horizontals."""

    column_lines: tuple[int, ...]
    row_lines: tuple[int, ...]


def validate_grid_lines(lines: GridLines, layout: LedgerLayout, width: int, height: int) -> None:
    expected = len(layout.columns) + 1
    if len(lines.column_lines) != expected:
        raise InvalidActionError(
            f"Need {expected} column lines for {layout.book_type}, got {len(lines.column_lines)}",
            f"Cần đúng {expected} đường dọc (mép trái, giữa các cột và mép phải).",
        )
    if len(lines.row_lines) < 2:
        raise InvalidActionError("Need at least two row lines", "Cần ít nhất hai đường ngang.")
    for values, limit in ((lines.column_lines, width), (lines.row_lines, height)):
        if any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[0] < 0 or values[-1] > limit:
            raise InvalidActionError(
                f"Lines {list(values)} must increase strictly within 0..{limit}",
                "Các đường phải tăng dần và nằm trong trang.",
            )


def default_segmenter() -> GridSegmenter:
    try:
        from ocr.page import records_from_lines  # type: ignore[attr-defined]
    except ImportError:
        raise InvalidActionError(
            "ocr.page.records_from_lines is not available yet",
            "Chức năng sửa lưới trang chưa sẵn sàng trong phiên bản này.",
        ) from None
    return records_from_lines  # type: ignore[no-any-return]


def correct_segmentation(
    factory: sessionmaker[Session],
    user: User,
    page_id: int,
    lines: GridLines,
    data_dir: Path,
    *,
    recognizer: Recognizer | None = None,
    segmenter: GridSegmenter | None = None,
    force: bool = False,
    model_version: str | None = None,
) -> int:
    """Rebuild a processed page's records from the given grid lines and re-recognise its cells
    (without a recognizer the fields stay empty for officials to key). Refuses pages with reviewed
    records unless force=True. Audited. Returns the number of records."""
    with transaction(factory) as session:
        scope = load_scope(session, user, CONTRACTORS)
        page = page_in_scope(session, scope, page_id)
        _check_correctable(session, page, force)
        layout = get_book_type(page.book.book_type).layout
        image_path, angle, warnings = page.deskewed_path, page.deskew_angle or 0.0, list(page.warnings or [])
        local = local_lexicon_for_unit(session, page.book.unit_id) if recognizer else None
    assert image_path is not None
    image = cv2.imread(str(data_dir / image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidActionError(f"Deskewed image {image_path} is unreadable", "Không đọc được ảnh trang.")
    height, width = image.shape[:2]
    validate_grid_lines(lines, layout, width, height)
    regions = (segmenter or default_segmenter())(image, layout, list(lines.column_lines), list(lines.row_lines))
    analysis = PageAnalysis(deskewed=image, deskew_angle=angle, records=regions)
    proposals = (propose_page(analysis, layout, recognizer, local=local) if recognizer
                 else empty_proposals(layout, len(regions)))
    step = ProcessingStep("manual_grid", {"column_lines": list(lines.column_lines),
                                          "row_lines": list(lines.row_lines)}, 0.0, {"records": len(regions)})
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise InvalidActionError("Could not re-encode the deskewed page", "Không lưu được ảnh trang.")
    outcome = PageOutcome(
        page_id=page_id, deskew_angle=angle, width=width, height=height, deskewed_jpeg=jpeg.tobytes(),
        records=regions, proposals=proposals, steps=[step],
        warnings=[w for w in warnings if w != MANUAL_GRID_WARNING] + [MANUAL_GRID_WARNING],
    )
    count = save_outcome(factory, data_dir, outcome, model_version)
    with transaction(factory) as session:
        acting = load_scope(session, user, CONTRACTORS).user
        record_event(session, actor=acting, entity_type="page", entity_id=page_id, action="correct_segmentation",
                     new={"column_lines": list(lines.column_lines), "row_lines": list(lines.row_lines),
                          "records": count, "force": force})
    return count


def _check_correctable(session: Session, page: Page, force: bool) -> None:
    if page.deleted:
        raise InvalidActionError(f"Page {page.id} is deleted", "Trang này đã bị xoá.")
    if page.status != PageStatus.DONE or not page.deskewed_path:
        raise InvalidActionError(f"Page {page.id} is {page.status}, not processed",
                                 "Trang chưa xử lý xong nên chưa sửa lưới được.")
    refuse_if_worked(session, page, force)
