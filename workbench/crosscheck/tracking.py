"""The tracking list: people found but different (or ambiguous), for supervisors to verify.

The book's values are never changed here; a supervisor only records how an item was settled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book, CrosscheckResult, CrosscheckStatus, Page, Record, Unit, User
from ocr.fields.text import clean_text
from workbench.audit import record_event
from workbench.deliverables.exports.cells import append_row
from workbench.errors import ServiceError
from workbench.scope import SUPERVISORS, load_scope, record_in_scope

TRACKED = (CrosscheckStatus.DIFFERENT, CrosscheckStatus.AMBIGUOUS)
COMPARED_FIELDS = ("full_name", "birth_date", "sex", "father_name", "mother_name")
FIELD_LABELS_VI = {
    "full_name": "Họ và tên", "birth_date": "Ngày sinh", "sex": "Giới tính",
    "father_name": "Họ tên cha", "mother_name": "Họ tên mẹ", "id_number": "Số định danh cá nhân",
    "residence": "Nơi cư trú",
}
ROLE_LABELS_VI = {"child": "Người được khai sinh / con nuôi", "father": "Cha", "mother": "Mẹ",
                  "deceased": "Người chết", "husband": "Chồng", "wife": "Vợ"}
STATUS_LABELS_VI = {"match": "Khớp", "different": "Có trong CSDL nhưng khác", "ambiguous": "Nhiều kết quả",
                    "not_found": "Không tìm thấy"}


class TrackingError(ServiceError):
    """A tracking-list action is refused."""


@dataclass(frozen=True)
class TrackingItem:
    result_id: int
    record_id: int
    book_id: int
    book_type: str
    unit_name: str
    page_index: int
    row_index: int
    role: str
    status: str
    id_number: str | None
    differing_fields: tuple[str, ...]
    book_values: dict[str, str]
    citizen_values: dict[str, str]
    candidate_count: int
    resolved: bool
    resolution: str | None


def tracking_list(session: Session, *, book_ids: Iterable[int] | None = None, unit_ids: Iterable[int] | None = None,
                  include_resolved: bool = False, limit: int | None = None) -> list[TrackingItem]:
    """The supervisor queue: unresolved DIFFERENT/AMBIGUOUS results in book order."""
    query = (
        select(CrosscheckResult, Record, Page.page_index, Book, Unit.name)
        .join(Record, CrosscheckResult.record_id == Record.id)
        .join(Page, Record.page_id == Page.id)
        .join(Book, Record.book_id == Book.id)
        .join(Unit, Book.unit_id == Unit.id)
        .where(CrosscheckResult.status.in_([s.value for s in TRACKED]))
        .order_by(Book.id, Page.page_index, Record.row_index, CrosscheckResult.role)
    )
    if not include_resolved:
        query = query.where(CrosscheckResult.resolved_at.is_(None))
    if book_ids is not None:
        query = query.where(Book.id.in_(list(book_ids)))
    if unit_ids is not None:
        query = query.where(Book.unit_id.in_(list(unit_ids)))
    if limit is not None:
        query = query.limit(limit)
    return [
        TrackingItem(
            result_id=result.id, record_id=record.id, book_id=book.id, book_type=book.book_type, unit_name=unit_name,
            page_index=page_index, row_index=record.row_index, role=result.role, status=result.status,
            id_number=result.id_number, differing_fields=tuple(result.differing_fields or ()),
            book_values=dict(result.book_values or {}), citizen_values=dict(result.citizen_values or {}),
            candidate_count=result.candidate_count, resolved=result.resolved_at is not None,
            resolution=result.resolution,
        )
        for result, record, page_index, book, unit_name in session.execute(query).all()
    ]


def resolve_tracking_item(session: Session, result_id: int, actor: User, resolution: str) -> CrosscheckResult:
    """Record how a supervisor settled an item (e.g. 'sổ đúng, CSDL cần sửa'); the book is untouched.
    Only a supervisor (or admin) whose scope covers the record's unit may (ScopeError otherwise)."""
    scope = load_scope(session, actor, SUPERVISORS)
    result = session.get(CrosscheckResult, result_id)
    if result is None:
        raise TrackingError(f"No cross-check result with id {result_id}", f"Không có kết quả đối chiếu số {result_id}")
    record_in_scope(session, scope, result.record_id, fresh=False)
    resolution = clean_text(resolution)
    if not resolution:
        raise TrackingError("A resolution note is required", "Cần ghi rõ cách xử lý")
    old = {"resolution": result.resolution}
    result.resolution = resolution
    result.resolved_by_id = actor.id
    result.resolved_at = datetime.now(UTC)
    record_event(session, actor=actor, entity_type="crosscheck_result", entity_id=result.id, action="resolve",
                 old=old, new={"resolution": resolution})
    return result


TRACKING_HEADER = (
    ["STT", "Đơn vị", "Sổ", "Loại sổ", "Trang", "Dòng", "Người", "Kết quả", "Trường khác nhau", "Số định danh"]
    + [f"{FIELD_LABELS_VI[f]} (sổ)" for f in COMPARED_FIELDS]
    + [f"{FIELD_LABELS_VI[f]} (CSDL)" for f in COMPARED_FIELDS]
    + ["Nơi cư trú (CSDL)", "Số ứng viên", "Cách xử lý"]
)


def write_tracking_xlsx(items: list[TrackingItem], target: Path | IO[bytes]) -> None:
    """The tracking list as Excel: book and database values side by side, differing cells highlighted."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Theo doi"
    append_row(sheet, TRACKING_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    highlight = PatternFill("solid", fgColor="FFF2CC")
    first_book_column = 11
    for number, item in enumerate(items, start=1):
        differing = ", ".join(FIELD_LABELS_VI.get(f, f) for f in item.differing_fields)
        # Book values, extract values and notes are other people's text: append_row keeps them text.
        append_row(
            sheet,
            [number, item.unit_name, item.book_id, item.book_type, item.page_index, item.row_index,
             ROLE_LABELS_VI.get(item.role, item.role), STATUS_LABELS_VI.get(item.status, item.status), differing,
             item.id_number or ""]
            + [item.book_values.get(f, "") for f in COMPARED_FIELDS]
            + [item.citizen_values.get(f, "") for f in COMPARED_FIELDS]
            + [item.citizen_values.get("residence", ""), item.candidate_count, item.resolution or ""]
        )
        for offset, name in enumerate(COMPARED_FIELDS):
            if name in item.differing_fields:
                for column in (first_book_column + offset, first_book_column + len(COMPARED_FIELDS) + offset):
                    sheet.cell(row=number + 1, column=column).fill = highlight
    sheet.freeze_panes = "A2"
    workbook.save(target)
