"""Correcting a page's grid (the contractor's grid editor): re-cut and re-read one page at the
column and row lines a person gave.

The pixel work is the OCR package's own: ``ocr.layout.page.analyze_at_lines`` cuts the stored deskewed page
with ingest's ink masks and cell cutter, and ``ocr.pipeline.propose`` reads the cells with an
``ocr.Reader`` of the book's ACTIVE model (its calibrator, its version) and the unit's confirmed words,
as ingest does. No DB transaction is held while reading. Then, in one transaction:

* approved records refuse the whole correction (re-cutting cannot move what was approved);
* records an official or supervisor has worked on (a field confirmed or corrected, flagged,
  rejected, or claimed right now) are kept untouched, and the new rows they cover are not added;
* every other record of the page is replaced by the new rows, with the model version on the page;
* the book's registration-number gaps and repeats are rechecked;
* the audit trail holds the old and new lines, the model version and the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, FieldValue, Page, PageStatus, Record, RecordStatus, User
from ocr.layout.grid import template_edges
from ocr.layout.page import analyze_at_lines
from ocr.page_warnings import PageWarning, decode_warnings, encode_warnings
from ocr.pipeline import propose
from ocr.reader import Reader
from ocr.types import FieldProposal, LedgerLayout, PageAnalysis, RecordRegion
from workbench.audit import record_event, record_step
from workbench.book_types import get_book_type
from workbench.db import transaction
from workbench.errors import InvalidActionError
from workbench.intake.ingest import new_record
from workbench.intake.registration_sequence import apply_book_sequence
from workbench.review.queue import claim_is_free
from workbench.scope import CONTRACTORS, load_scope, page_in_scope
from workbench.training.lexicon_growth import local_lexicon_for_unit
from workbench.training.model_registry import reader_for

MANUAL_GRID_WARNING = PageWarning("manual_grid")
# Page warnings about how the machine found (or missed) the grid: a person's grid answers them.
# The writing-beside-the-table check is redone for the new frame.
GRID_WARNINGS = frozenset({"no_grid", "grid_rulings", "grid_partial_rulings", "grid_text_lines", "columns_guessed",
                           "columns_differ_from_template", "ink_left_of_table", "ink_right_of_table",
                           MANUAL_GRID_WARNING.code})
MIN_GAP_PX = 8  # narrower than this a "cell" holds no writing: a slip of the mouse, not a column
# A new row covering more than this share of a kept record's height is that record's row.
KEPT_ROW_OVERLAP = 0.5
DEFAULT_ROWS = 10  # a page without any grid found: start the editor with a ledger's usual row count


@dataclass(frozen=True)
class GridLines:
    """Line positions in deskewed-page pixels: len(columns) + 1 verticals (frame included) and at
    least two horizontals (the header's bottom first, then the bottom of each row)."""

    column_lines: tuple[int, ...]
    row_lines: tuple[int, ...]


@dataclass(frozen=True)
class PageGrid:
    """What the grid editor starts from: the page's current lines and what a correction may touch."""

    page_id: int
    book_id: int
    book_type: str
    page_index: int
    image_path: str  # deskewed page, relative to the data directory
    width: int
    height: int
    lines: GridLines
    source: str  # rulings / partial_rulings / text_lines / manual (the latest grid), or template (none found)
    column_keys: tuple[str, ...]
    column_labels: tuple[str, ...]
    records: int
    approved: int  # > 0: a correction is refused
    kept: int  # records worked on by officials: kept as they are
    model_version: str | None  # the model that proposed the page's fields

    @property
    def correctable(self) -> bool:
        return self.approved == 0


@dataclass(frozen=True)
class RowResult:
    row_index: int
    box: tuple[int, int, int, int]
    values: dict[str, str]  # field key -> proposed value
    confidence: float  # the record's weakest field


@dataclass(frozen=True)
class SegmentationResult:
    page_id: int
    model_version: str
    records_created: int
    records_replaced: int
    records_kept: int
    rows_skipped: int  # new rows that are a kept record's row
    rows: tuple[RowResult, ...]  # the new records, top to bottom
    warnings: tuple[PageWarning, ...]  # the page's warnings afterwards


# --- the editor's starting point -----------------------------------------------------------------

def load_page_grid(session: Session, user: User, page_id: int) -> PageGrid:
    """The page's latest grid (the pipeline's or a person's), or the template's columns across the
    page when none was found; refuses pages that cannot be corrected (deleted, not processed)."""
    scope = load_scope(session, user, CONTRACTORS)
    page = page_in_scope(session, scope, page_id)
    _check_processed(page)
    layout = get_book_type(page.book.book_type).layout
    width, height = _page_size(page)
    lines, source = _latest_lines(session, page.id, layout) or (template_grid(layout, width, height), "template")
    records = list(session.scalars(select(Record).where(Record.page_id == page.id)))
    worked = _worked_record_ids(session, page.id)
    return PageGrid(
        page_id=page.id, book_id=page.book_id, book_type=page.book.book_type, page_index=page.page_index,
        image_path=page.deskewed_path or "", width=width, height=height, lines=lines, source=source,
        column_keys=tuple(layout.keys), column_labels=tuple(c.label for c in layout.columns), records=len(records),
        approved=sum(r.status == RecordStatus.APPROVED for r in records),
        kept=sum(r.id in worked and r.status != RecordStatus.APPROVED for r in records),
        model_version=page.model_version,
    )


def template_grid(layout: LedgerLayout, width: int, height: int) -> GridLines:
    """Lines to start from on a page where no grid was found: the template's column proportions
    across the middle 90% of the page, the header in the top fifth, DEFAULT_ROWS equal rows."""
    columns = template_edges(0.05 * width, 0.95 * width, layout)
    top, bottom = 0.2 * height, 0.95 * height
    rows = np.linspace(top, bottom, DEFAULT_ROWS + 1)
    return GridLines(tuple(round(float(x)) for x in columns), tuple(round(float(y)) for y in rows))


def _latest_lines(session: Session, page_id: int, layout: LedgerLayout) -> tuple[GridLines, str] | None:
    """The newest audited grid step of the page that fits the book type's columns."""
    steps = session.execute(
        select(AuditEvent.new_value).where(AuditEvent.entity_type == "page", AuditEvent.entity_id == page_id,
                                           AuditEvent.step_name == "grid")
        .order_by(AuditEvent.id.desc())
    )
    for (result,) in steps:
        if not isinstance(result, dict):
            continue
        columns, rows = result.get("column_edges"), result.get("row_edges")
        if (isinstance(columns, list) and isinstance(rows, list) and len(columns) == len(layout.columns) + 1
                and len(rows) >= 2):
            return GridLines(tuple(int(x) for x in columns), tuple(int(y) for y in rows)), str(result.get("method"))
    return None


# --- the correction ------------------------------------------------------------------------------

def validate_grid_lines(lines: GridLines, layout: LedgerLayout, width: int, height: int) -> None:
    expected = len(layout.columns) + 1
    if len(lines.column_lines) != expected:
        raise InvalidActionError(
            f"Need {expected} column lines for {layout.book_type}, got {len(lines.column_lines)}",
            f"Cần đúng {expected} đường dọc (mép trái, giữa các cột và mép phải), đang có "
            f"{len(lines.column_lines)}.",
        )
    if len(lines.row_lines) < 2:
        raise InvalidActionError("Need at least two row lines",
                                 "Cần ít nhất hai đường ngang (dưới tiêu đề và dưới dòng cuối).")
    for values, limit in ((lines.column_lines, width), (lines.row_lines, height)):
        if values[0] < 0 or values[-1] > limit:
            raise InvalidActionError(f"Lines {list(values)} must lie within 0..{limit}",
                                     "Các đường kẻ phải nằm trong trang.")
        if any(b - a < MIN_GAP_PX for a, b in zip(values, values[1:], strict=False)):
            raise InvalidActionError(
                f"Lines {list(values)} must increase by at least {MIN_GAP_PX} px",
                f"Các đường kẻ phải tăng dần và cách nhau ít nhất {MIN_GAP_PX} điểm ảnh.",
            )


def check_lines(grid: PageGrid, lines: GridLines) -> None:
    """The checks correct_segmentation makes on the lines, for the editor to show before anything runs."""
    validate_grid_lines(lines, get_book_type(grid.book_type).layout, grid.width, grid.height)


@dataclass(frozen=True)
class _PageState:
    book_id: int
    unit_id: int
    layout: LedgerLayout
    image_path: str
    warnings: tuple[PageWarning, ...]
    old_lines: GridLines | None
    old_model: str | None


def correct_segmentation(
    factory: sessionmaker[Session],
    user: User,
    page_id: int,
    lines: GridLines,
    data_dir: Path,
    *,
    reader: Reader | None = None,
    ocr_threads: int = 2,
) -> SegmentationResult:
    """Re-cut the page at ``lines`` and re-read it with the active model (``reader``: another one,
    for tools that name a version). Scope: a contractor or admin of the page's unit. Refuses pages
    with approved records, deleted or unprocessed pages and impossible lines. Audited."""
    with transaction(factory) as session:
        state = _page_state(session, user, page_id)
        local = local_lexicon_for_unit(session, state.unit_id)
    image = cv2.imread(str(data_dir / state.image_path), cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidActionError(f"Deskewed image {state.image_path} is unreadable", "Không đọc được ảnh trang.")
    height, width = image.shape[:2]
    validate_grid_lines(lines, state.layout, width, height)
    analysis = analyze_at_lines(image, state.layout, lines.column_lines, lines.row_lines)
    kept_warnings = [w for w in state.warnings if w.code not in GRID_WARNINGS]
    # The page's other doubts (rotated, faded...) still weigh on every cell, as at ingest.
    analysis.warnings = kept_warnings + analysis.warnings
    # The unit's confirmed words decode the page, as at ingest, whichever model reads it.
    reader = (reader or reader_for(data_dir, None, ocr_threads)).with_local(local)
    proposals = propose(analysis, state.layout, reader)
    with transaction(factory) as session:
        return _store(session, user, page_id, lines, state, analysis, proposals, reader.model_version)


def _page_state(session: Session, user: User, page_id: int) -> _PageState:
    scope = load_scope(session, user, CONTRACTORS)
    page = page_in_scope(session, scope, page_id)
    _check_processed(page)
    _refuse_approved(session, page.id)
    layout = get_book_type(page.book.book_type).layout
    found = _latest_lines(session, page.id, layout)
    return _PageState(page.book_id, page.book.unit_id, layout, page.deskewed_path or "", decode_warnings(page.warnings),
                      found[0] if found else None, page.model_version)


def _store(session: Session, user: User, page_id: int, lines: GridLines, state: _PageState,
           analysis: PageAnalysis, proposals: list[dict[str, FieldProposal]], model_version: str) -> SegmentationResult:
    """Replace the page's open machine records by the new rows, in the caller's transaction. The
    checks run again: an official may have approved or opened a record while the page was read."""
    scope = load_scope(session, user, CONTRACTORS)
    page = page_in_scope(session, scope, page_id)
    _check_processed(page)
    _refuse_approved(session, page.id)
    worked = _worked_record_ids(session, page.id)
    existing = list(session.scalars(select(Record).where(Record.page_id == page.id)))
    kept = [r for r in existing if r.id in worked]
    replaced = [r for r in existing if r.id not in worked]
    for record in replaced:
        session.delete(record)
    session.flush()  # their row numbers are free for the new rows
    pairs = [(region, proposal) for region, proposal in zip(analysis.records, proposals, strict=True)
             if not _covers_kept_row(region, kept)]
    indexes = _row_indexes([region for region, _ in pairs], kept)
    created = [new_record(page, region, proposal, row_index)
               for (region, proposal), row_index in zip(pairs, indexes, strict=True)]
    session.add_all(created)
    session.flush()
    for step in analysis.steps:
        record_step(session, "page", page.id, step)
    page.warnings = encode_warnings(dict.fromkeys([*analysis.warnings, MANUAL_GRID_WARNING]))
    page.model_version = model_version
    page.timings = {**(page.timings or {}), **{s.name: round(s.seconds, 4) for s in analysis.steps}}
    page.processed_at = datetime.now(UTC)
    record_event(session, actor=scope.user, entity_type="page", entity_id=page.id, action="correct_segmentation",
                 old={"column_lines": list(state.old_lines.column_lines) if state.old_lines else None,
                      "row_lines": list(state.old_lines.row_lines) if state.old_lines else None,
                      "model_version": state.old_model, "records": len(existing)},
                 new={"column_lines": list(lines.column_lines), "row_lines": list(lines.row_lines),
                      "model_version": model_version, "records_created": len(created),
                      "records_replaced": len(replaced), "records_kept": len(kept),
                      "rows_skipped": len(analysis.records) - len(pairs)})
    apply_book_sequence(session, page.book_id)  # new numbers may open or close a gap
    session.flush()
    return SegmentationResult(
        page_id=page.id, model_version=model_version, records_created=len(created),
        records_replaced=len(replaced), records_kept=len(kept), rows_skipped=len(analysis.records) - len(pairs),
        rows=tuple(_row_result(r) for r in sorted(created, key=lambda r: r.bbox[1])),
        warnings=decode_warnings(page.warnings),
    )


def _row_result(record: Record) -> RowResult:
    x, y, w, h = (int(v) for v in record.bbox)
    return RowResult(record.row_index, (x, y, w, h), {f.key: f.proposed_value for f in record.fields},
                     float(record.confidence))


def _check_processed(page: Page) -> None:
    if page.deleted:
        raise InvalidActionError(f"Page {page.id} is deleted", "Trang này đã bị xoá.")
    if page.status != PageStatus.DONE or not page.deskewed_path:
        raise InvalidActionError(f"Page {page.id} is {page.status}, not processed",
                                 "Trang chưa xử lý xong nên chưa sửa lưới được.")


def _refuse_approved(session: Session, page_id: int) -> None:
    approved = session.scalar(select(Record.id).where(Record.page_id == page_id,
                                                      Record.status == RecordStatus.APPROVED).limit(1))
    if approved is not None:
        raise InvalidActionError(
            f"Page {page_id} has approved records; its grid cannot be changed",
            "Trang này đã có bản ghi được duyệt nên không cắt lại được. "
            "Nếu lưới sai, hãy báo tổ kiểm tra để trả lại các bản ghi đó trước.",
        )


def _worked_record_ids(session: Session, page_id: int) -> set[int]:
    """Records people have worked on or hold right now: any field confirmed or corrected, a status
    past `proposed` other than an open, unclaimed review, or a live claim."""
    touched = select(FieldValue.record_id).where(FieldValue.status != FieldStatus.PROPOSED)
    open_statuses = (RecordStatus.PROPOSED, RecordStatus.IN_REVIEW)
    records = session.execute(
        select(Record.id, Record.status, claim_is_free(datetime.now(UTC))).where(Record.page_id == page_id)
    )
    worked = set(session.scalars(select(Record.id).where(Record.page_id == page_id, Record.id.in_(touched))))
    worked |= {record_id for record_id, status, free in records if status not in open_statuses or not free}
    return worked


def _covers_kept_row(region: RecordRegion, kept: list[Record]) -> bool:
    top, bottom = region.box.y, region.box.y + region.box.h
    for record in kept:
        y, h = int(record.bbox[1]), int(record.bbox[3])
        overlap = min(bottom, y + h) - max(top, y)
        if overlap > KEPT_ROW_OVERLAP * min(h, region.box.h):
            return True
    return False


def _row_indexes(regions: list[RecordRegion], kept: list[Record]) -> list[int]:
    """Row numbers for the new rows: their place top to bottom among all the page's rows, moved on
    to the next free number where a kept record holds it (kept records are never renumbered)."""
    taken = {r.row_index for r in kept}
    tops = sorted([int(r.bbox[1]) for r in kept] + [region.box.y for region in regions])
    indexes: list[int] = []
    for region in regions:
        number = tops.index(region.box.y) + 1
        while number in taken:
            number += 1
        taken.add(number)
        indexes.append(number)
    return indexes


def _page_size(page: Page) -> tuple[int, int]:
    if page.width and page.height:
        return int(page.width), int(page.height)
    raise InvalidActionError(f"Page {page.id} has no size", "Trang chưa có kích thước ảnh.")
