"""Contractors' work on books and pages: create a book, watch its pages, re-run or soft-delete a page
(correcting a page's grid is in workbench.intake.segmentation).

Re-running is two steps so no DB transaction is held during OCR: `rerun_page` puts the page back
to `queued` (audited), then the caller runs the resumable ingest pass for the book:
`workbench.intake.ingest.process_pending_pages(factory, data_dir, book_id, options, recognizer, report)`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import AuditEvent, Book, FieldStatus, FieldValue, Page, PageStatus, Record, RecordStatus, Role, User
from ocr.page_warnings import PageWarning, decode_warnings
from workbench.audit import record_event
from workbench.book_types import BookTypeError, get_book_type
from workbench.errors import InvalidActionError
from workbench.intake.book_type_hold import is_held, suspected_type
from workbench.intake.registration_sequence import apply_book_sequence
from workbench.intake.upload_log import error_vi
from workbench.scope import CONTRACTORS, EVERYONE, Scope, book_in_scope, load_scope, page_in_scope, unit_in_scope

PAGE_VIEWERS = (Role.CONTRACTOR, Role.SUPERVISOR, Role.ADMIN)
MIN_YEAR, MAX_YEAR = 1800, 2100


@dataclass(frozen=True)
class BookSummary:
    id: int
    unit_id: int
    unit_name: str
    book_type: str
    type_label: str
    year: int
    year_to: int | None
    volume: int
    declared_count: int | None
    pages: int  # live (not deleted) pages
    pages_by_status: dict[str, int]  # queued / processing / done / failed, live pages only
    records: int  # on live pages
    records_by_status: dict[str, int]

    @property
    def pages_finished(self) -> int:
        """Pages the pipeline is through with (done or failed): the progress bar's numerator."""
        return self.pages_by_status.get(PageStatus.DONE, 0) + self.pages_by_status.get(PageStatus.FAILED, 0)


@dataclass(frozen=True)
class PageSummary:
    id: int
    page_index: int
    original_name: str
    status: str
    deleted: bool
    deskew_angle: float | None
    warnings: tuple[PageWarning, ...]  # QA warnings from the pipeline (blank, rotated_90, grid_text_lines, ...)
    error: str | None
    rows_found: int  # records the pipeline made from this page
    rows_expected: int | None  # data-row bands of the detected grid (from its audit step), if known
    image_path: str  # deskewed if available, else the original (relative to the data dir)
    size: tuple[int, int] | None
    processed_at: datetime | None
    has_human_work: bool  # some record was reviewed: re-running would replace that work

    @property
    def held(self) -> bool:
        """Held for the contractor: it may belong to another book type (officials do not see it)."""
        return not self.deleted and is_held(self.warnings)

    @property
    def suspected_type(self) -> str | None:
        return suspected_type(self.warnings)

    @property
    def error_vi(self) -> str:
        """The page's load/processing error as contractors read it (stored in English for the logs)."""
        return error_vi(self.error)


# --- books ---------------------------------------------------------------------------------------

def create_book(session: Session, user: User, *, unit_id: int, book_type: str, year: int, volume: int = 1,
                declared_count: int | None = None, year_to: int | None = None) -> int:
    """Create a book in a unit of the user's scope; InvalidActionError if it exists or is implausible."""
    scope = load_scope(session, user, CONTRACTORS)
    unit = unit_in_scope(session, scope, unit_id)
    try:
        get_book_type(book_type)
    except BookTypeError:
        raise InvalidActionError(f"Unknown book type {book_type}", "Loại sổ không hợp lệ.") from None
    if not MIN_YEAR <= year <= MAX_YEAR or (year_to is not None and not year <= year_to <= MAX_YEAR):
        raise InvalidActionError(f"Implausible years {year}-{year_to}", "Năm của sổ không hợp lệ.")
    if volume < 1 or (declared_count is not None and declared_count < 0):
        raise InvalidActionError("Volume must be >= 1 and the declared count >= 0",
                                 "Số quyển phải từ 1 trở lên và tổng số đăng ký không được âm.")
    exists = session.scalar(select(Book.id).where(Book.unit_id == unit.id, Book.book_type == book_type,
                                                  Book.year_from == year, Book.volume == volume))
    if exists is not None:
        raise InvalidActionError(f"Book {book_type} {year} vol. {volume} of unit {unit.id} exists (id {exists})",
                                 "Sổ này đã có trong hệ thống.")
    book = Book(unit_id=unit.id, book_type=book_type, year_from=year, year_to=year_to, volume=volume,
                declared_count=declared_count, created_by_id=scope.user.id)
    session.add(book)
    session.flush()
    record_event(session, actor=scope.user, entity_type="book", entity_id=book.id, action="create",
                 new={"unit": unit.name, "book_type": book_type, "year": year, "year_to": year_to,
                      "volume": volume, "declared_count": declared_count})
    return book.id


def _summaries(session: Session, books: list[Book]) -> list[BookSummary]:
    ids = [b.id for b in books]
    pages: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for book_id, status, count in session.execute(
        select(Page.book_id, Page.status, func.count()).where(Page.book_id.in_(ids), Page.deleted.is_(False))
        .group_by(Page.book_id, Page.status)
    ):
        pages[book_id][status] = count
    records: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for book_id, status, count in session.execute(
        select(Record.book_id, Record.status, func.count()).join(Page, Record.page_id == Page.id)
        .where(Record.book_id.in_(ids), Page.deleted.is_(False)).group_by(Record.book_id, Record.status)
    ):
        records[book_id][status] = count
    return [
        BookSummary(
            id=b.id, unit_id=b.unit_id, unit_name=b.unit.name, book_type=b.book_type,
            type_label=get_book_type(b.book_type).label, year=b.year_from, year_to=b.year_to, volume=b.volume,
            declared_count=b.declared_count, pages=sum(pages[b.id].values()), pages_by_status=dict(pages[b.id]),
            records=sum(records[b.id].values()), records_by_status=dict(records[b.id]),
        )
        for b in books
    ]


def list_books(session: Session, user: User) -> list[BookSummary]:
    """Books in the user's scope (any role), by unit, book-type priority, year, volume."""
    scope = load_scope(session, user, EVERYONE)
    books = list(session.scalars(select(Book).where(scope.unit_filter(Book.unit_id))))
    books.sort(key=lambda b: (b.unit.name, get_book_type(b.book_type).priority, b.year_from, b.volume))
    return _summaries(session, books)


def get_book_summary(session: Session, user: User, book_id: int) -> BookSummary:
    """One book's counts (the processing progress bar reads this, so it survives page reloads)."""
    scope = load_scope(session, user, EVERYONE)
    return _summaries(session, [book_in_scope(session, scope, book_id)])[0]


# --- pages ---------------------------------------------------------------------------------------

def _pages_with_human_work(session: Session, page_ids: list[int]) -> set[int]:
    touched_fields = select(FieldValue.record_id).where(FieldValue.status != FieldStatus.PROPOSED)
    return set(session.scalars(
        select(Record.page_id).where(
            Record.page_id.in_(page_ids),
            or_(Record.status != RecordStatus.PROPOSED, Record.id.in_(touched_fields)),
        ).distinct()
    ))


def _grid_rows(session: Session, page_ids: list[int]) -> dict[int, int]:
    """Data-row bands of each page's latest grid step (the pipeline audits row_edges)."""
    found: dict[int, int] = {}
    for page_id, result in session.execute(
        select(AuditEvent.entity_id, AuditEvent.new_value)
        .where(AuditEvent.entity_type == "page", AuditEvent.step_name == "grid", AuditEvent.entity_id.in_(page_ids))
        .order_by(AuditEvent.id)
    ):
        edges = result.get("row_edges") if isinstance(result, dict) else None
        if isinstance(edges, list) and len(edges) >= 2:
            found[page_id] = len(edges) - 1
    return found


def list_pages(session: Session, user: User, book_id: int, include_deleted: bool = False) -> list[PageSummary]:
    """The book's pages in order, with status, deskew angle, QA warnings and rows found vs expected."""
    scope = load_scope(session, user, PAGE_VIEWERS)
    book_in_scope(session, scope, book_id)
    query = select(Page).where(Page.book_id == book_id).order_by(Page.page_index)
    if not include_deleted:
        query = query.where(Page.deleted.is_(False))
    pages = list(session.scalars(query))
    ids = [p.id for p in pages]
    rows = dict(session.execute(
        select(Record.page_id, func.count()).where(Record.page_id.in_(ids)).group_by(Record.page_id)
    ).all())
    expected = _grid_rows(session, ids)
    worked = _pages_with_human_work(session, ids)
    return [
        PageSummary(
            id=p.id, page_index=p.page_index, original_name=p.original_name, status=p.status, deleted=p.deleted,
            deskew_angle=p.deskew_angle, warnings=decode_warnings(p.warnings), error=p.error,
            rows_found=int(rows.get(p.id, 0)), rows_expected=expected.get(p.id),
            image_path=p.deskewed_path or p.image_path,
            size=(p.width, p.height) if p.width and p.height else None,
            processed_at=p.processed_at, has_human_work=p.id in worked,
        )
        for p in pages
    ]


def _live_page(session: Session, scope: Scope, page_id: int) -> Page:
    page = page_in_scope(session, scope, page_id)
    if page.deleted:
        raise InvalidActionError(f"Page {page_id} is deleted", "Trang này đã bị xoá.")
    return page


def refuse_if_worked(session: Session, page: Page, force: bool) -> None:
    if not force and _pages_with_human_work(session, [page.id]):
        raise InvalidActionError(
            f"Page {page.id} has reviewed records; pass force=True to replace them",
            "Trang này đã có bản ghi được kiểm tra; xử lý lại sẽ thay thế kết quả đó.",
        )


def rerun_page(session: Session, user: User, page_id: int, *, force: bool = False) -> None:
    """Put a page back to `queued` so the resumable ingest pass re-processes it. Refuses when
    officials already worked on its records unless force=True (their work would be replaced;
    the audit trail keeps it)."""
    scope = load_scope(session, user, CONTRACTORS)
    page = _live_page(session, scope, page_id)
    if page.status in (PageStatus.QUEUED, PageStatus.PROCESSING):
        raise InvalidActionError(f"Page {page_id} is already {page.status}", "Trang này đang chờ hoặc đang xử lý.")
    refuse_if_worked(session, page, force)
    record_event(session, actor=scope.user, entity_type="page", entity_id=page.id, action="rerun",
                 old={"status": page.status, "error": page.error}, new={"status": str(PageStatus.QUEUED),
                                                                         "force": force})
    page.status = PageStatus.QUEUED
    page.error = None


def delete_page(session: Session, user: User, page_id: int, reason: str) -> None:
    """Soft-delete a bad page: its records leave every queue, progress count and export; audited."""
    scope = load_scope(session, user, CONTRACTORS)
    page = _live_page(session, scope, page_id)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidActionError("Deleting a page needs a reason", "Vui lòng ghi lý do xoá trang.")
    page.deleted = True
    for record in page.records:  # nobody keeps working on a record of a deleted page
        record.assigned_to_id = None
        record.claim_expires_at = None
    record_event(session, actor=scope.user, entity_type="page", entity_id=page.id, action="delete",
                 old={"deleted": False}, new={"deleted": True, "reason": reason})
    session.flush()
    # The page's registration numbers leave the book: the gap they leave must show.
    apply_book_sequence(session, page.book_id, scope.user)


def restore_page(session: Session, user: User, page_id: int) -> None:
    scope = load_scope(session, user, CONTRACTORS)
    page = page_in_scope(session, scope, page_id)
    if not page.deleted:
        raise InvalidActionError(f"Page {page_id} is not deleted", "Trang này chưa bị xoá.")
    page.deleted = False
    record_event(session, actor=scope.user, entity_type="page", entity_id=page.id, action="restore",
                 old={"deleted": True}, new={"deleted": False})
    session.flush()
    apply_book_sequence(session, page.book_id, scope.user)
