"""Loading a book for export: pages, records and the officials' values, in book order."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import FieldStatus, FieldValue, Page, PageStatus, Record, RecordStatus
from ocr.fields.text import strip_controls
from workbench.books import get_book

# Fields an official has looked at: their proposal became the official value.
_REVIEWED = {FieldStatus.CONFIRMED, FieldStatus.CORRECTED}


class UnapprovedRecordsError(ValueError):
    """The book still has records nobody approved; exports must not pass them off as verified."""

    def __init__(self, book_id: int, count: int) -> None:
        super().__init__(
            f"Book {book_id} has {count} unapproved record(s); approve them first "
            "or export with --include-unapproved (they are then marked CHUADUYET)."
        )
        self.message_vi = (
            f"Sổ {book_id} còn {count} bản ghi chưa được duyệt; hãy duyệt trước "
            "hoặc xuất kèm tùy chọn 'gồm bản ghi chưa duyệt' (sẽ được đánh dấu CHUADUYET)."
        )
        self.count = count


@dataclass(frozen=True)
class ExportField:
    key: str
    official: str  # what the officials confirmed or typed; "" when nobody reviewed the field
    proposed: str  # the machine's proposal (PAGE XML only; never in the import file)
    confidence: float
    reviewed: bool
    bbox: tuple[int, int, int, int] | None


@dataclass(frozen=True)
class ExportRecord:
    record_id: int
    page_index: int
    row_index: int
    approved: bool
    bbox: tuple[int, int, int, int]
    fields: dict[str, ExportField]

    def value(self, key: str) -> str:
        field = self.fields.get(key)
        return field.official if field else ""


@dataclass(frozen=True)
class ExportPage:
    page_id: int
    page_index: int
    original_name: str
    deskewed_path: str | None  # relative to the data directory
    width: int | None
    height: int | None
    header_bbox: tuple[int, int, int, int] | None
    records: tuple[ExportRecord, ...]


@dataclass(frozen=True)
class ExportBook:
    book_id: int
    book_type: str
    unit_name: str
    unit_code: str | None
    year: int
    volume: int
    pages: tuple[ExportPage, ...]
    unfinished_pages: int  # queued/processing/failed pages: the export may be incomplete

    @property
    def records(self) -> list[ExportRecord]:
        return [r for p in self.pages for r in p.records]


def is_reviewed(field: FieldValue) -> bool:
    return field.status in _REVIEWED


def official_value(field: FieldValue) -> str:
    """What an official confirmed or typed (final_value, else the confirmed proposal); "" if unreviewed."""
    if not is_reviewed(field):
        return ""
    return field.final_value if field.final_value is not None else field.proposed_value


def _box(values: list[int] | None) -> tuple[int, int, int, int] | None:
    if not values or len(values) != 4:
        return None
    x, y, w, h = (int(v) for v in values)
    return x, y, w, h


def _export_record(record: Record, page_index: int) -> ExportRecord:
    # Values stored before the entry points stripped control characters must still export:
    # every text leaves through strip_controls (XML and Excel cannot hold them).
    fields = {
        f.key: ExportField(
            key=f.key, official=strip_controls(official_value(f)), proposed=strip_controls(f.proposed_value),
            confidence=float(f.confidence),
            reviewed=is_reviewed(f), bbox=_box(f.bbox),
        )
        for f in record.fields
    }
    box = _box(record.bbox) or (0, 0, 0, 0)
    return ExportRecord(record.id, page_index, record.row_index, record.status == RecordStatus.APPROVED, box, fields)


def load_export_book(session: Session, book_id: int, include_unapproved: bool = False) -> ExportBook:
    """The book's approved records (plus unapproved ones when asked); rejected rows never export.

    Raises UnapprovedRecordsError when unapproved records exist and include_unapproved is False.
    """
    book = get_book(session, book_id)
    pages = session.scalars(
        select(Page)
        .where(Page.book_id == book_id, Page.deleted.is_(False))
        .order_by(Page.page_index)
        .options(selectinload(Page.records).selectinload(Record.fields))
    ).all()
    pending = sum(
        1 for p in pages for r in p.records if r.status not in (RecordStatus.APPROVED, RecordStatus.REJECTED)
    )
    if pending and not include_unapproved:
        raise UnapprovedRecordsError(book_id, pending)
    export_pages = tuple(
        ExportPage(
            page_id=p.id, page_index=p.page_index, original_name=strip_controls(p.original_name),
            deskewed_path=p.deskewed_path,
            width=p.width, height=p.height, header_bbox=_box(p.header_bbox),
            records=tuple(
                _export_record(r, p.page_index)
                for r in sorted(p.records, key=lambda r: r.row_index)
                if r.status != RecordStatus.REJECTED
            ),
        )
        for p in pages
    )
    unfinished = sum(1 for p in pages if p.status != PageStatus.DONE)
    return ExportBook(
        book_id=book.id, book_type=book.book_type, unit_name=strip_controls(book.unit.name),
        unit_code=strip_controls(book.unit.code) if book.unit.code else book.unit.code,
        year=book.year_from, volume=book.volume, pages=export_pages, unfinished_pages=unfinished,
    )
