"""The verification station in book order (issue #15 item 6): where a record sits in its book, the
record before or after it, and undoing the official's last approval.

Officials key a book beside its page images, page by page and row by row, so the queue serves book
order unless a supervisor chose otherwise for the unit (workbench.review.queue). Here:

- `book_position`: "trang 3/12 · dòng 5/8" and how much of the book is still open. Pages count as the
  book's live pages in page order, rows as the page's records in row order.
- `neighbour_record`: the record just before (or after) one in book order, in the same book, on live
  pages not held for the contractor (the records a queue may show).
- `open_in_book`: the official steps back (or forward) to a record. An open record nobody else holds
  is claimed, so it can be corrected and approved at once; any other is shown as it is, with why it
  cannot be changed here.
- `last_approval` / `undo_last_approval`: the official's most recent approval can be taken back until
  someone else touches the record: any write to the record row (a supervisor's save, a QA result,
  anyone's status change) moves its version away from the one the approval gave it (kept in the
  approve event by workbench.review.review), and a QA draw or a population cross-check result refuses it
  too. The undo keeps every field value and decision, puts the record back "in review", claimed by
  the official (it opens at once, and is theirs to re-approve), and is audited as `undo_approve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import AuditEvent, Book, CrosscheckResult, Page, QaCheck, Record, RecordStatus, User
from workbench.errors import ConflictError, InvalidActionError
from workbench.policy import ReviewPolicy
from workbench.review.queue import OPEN_STATUSES, as_utc, claim_is_free, claim_record, now_utc, queue_visible
from workbench.review.review import change_status, flush_or_conflict
from workbench.scope import REVIEWERS, Scope, load_scope, record_in_scope

UNDO_ACTION = "undo_approve"


@dataclass(frozen=True)
class BookPosition:
    """Where one record sits in its book (what the official reads as "trang 3/12 · dòng 5/8")."""

    record_id: int
    book_id: int
    page_number: int  # 1-based among the book's live pages, in page order
    page_count: int
    row_number: int  # 1-based among the page's rows
    row_count: int
    book_open: int  # records of the book still to verify (proposed or in review), on live pages
    book_total: int  # records of the book on live pages


@dataclass(frozen=True)
class BrowsedRecord:
    """A record the official stepped to in book order."""

    record_id: int
    editable: bool  # claimed by this user now: the verification form works on it
    note_vi: str  # why it can only be looked at ("" when editable)


@dataclass(frozen=True)
class LastApproval:
    """The acting user's most recent approval, and whether it can still be undone."""

    record_id: int
    event_id: int
    page_index: int
    row_index: int
    approved_at: datetime
    undoable: bool
    refusal_vi: str  # why not ("" when undoable)


@dataclass(frozen=True)
class UndoResult:
    record_id: int
    version: int  # the record's new version
    status: str
    claim_expires_at: datetime


# --- position and neighbours ----------------------------------------------------------------------

def book_position(session: Session, user: User, record_id: int) -> BookPosition:
    """Page x of y and row x of y of a record in its book, and how many of the book's records are open."""
    scope = load_scope(session, user, REVIEWERS)
    record = record_in_scope(session, scope, record_id, fresh=False)
    live_pages = select(Page.page_index).where(Page.book_id == record.book_id, Page.deleted.is_(False))
    page_index = record.page.page_index
    page_count = session.scalar(select(func.count()).select_from(live_pages.subquery())) or 0
    page_number = session.scalar(select(func.count()).select_from(
        live_pages.where(Page.page_index <= page_index).subquery())) or 0
    rows = session.execute(select(Record.row_index).where(Record.page_id == record.page_id)).scalars().all()
    book_rows = session.execute(
        select(Record.status, func.count()).join(Page, Record.page_id == Page.id)
        .where(Record.book_id == record.book_id, Page.deleted.is_(False)).group_by(Record.status)
    ).all()
    counts = {str(status): int(n) for status, n in book_rows}
    return BookPosition(
        record_id=record.id, book_id=record.book_id,
        page_number=max(page_number, 1), page_count=max(page_count, 1),
        row_number=sum(1 for r in rows if r <= record.row_index), row_count=len(rows),
        book_open=sum(counts.get(str(s), 0) for s in OPEN_STATUSES), book_total=sum(counts.values()),
    )


def neighbour_record(session: Session, user: User, record_id: int, step: int) -> int | None:
    """The record just before (`step` -1) or after (+1) this one in its book (page, then row); None at
    the book's first or last record."""
    if step not in (-1, 1):
        raise InvalidActionError(f"Step must be -1 or 1, not {step}", "Thao tác không hợp lệ.")
    scope = load_scope(session, user, REVIEWERS)
    record = record_in_scope(session, scope, record_id, fresh=False)
    page_index, row_index = record.page.page_index, record.row_index
    if step < 0:
        beyond = or_(Page.page_index < page_index, and_(Page.page_index == page_index, Record.row_index < row_index))
        order = (Page.page_index.desc(), Record.row_index.desc())
    else:
        beyond = or_(Page.page_index > page_index, and_(Page.page_index == page_index, Record.row_index > row_index))
        order = (Page.page_index.asc(), Record.row_index.asc())
    found = session.scalar(
        select(Record.id).join(Book, Record.book_id == Book.id).join(Page, Record.page_id == Page.id)
        .where(Record.book_id == record.book_id, queue_visible(scope), beyond)
        .order_by(*order).limit(1)
    )
    return int(found) if found is not None else None


def open_in_book(
    session: Session, user: User, record_id: int, policy: ReviewPolicy = ReviewPolicy(),
    moment: datetime | None = None,
) -> BrowsedRecord:
    """Step to a record of the book: an open record that is free (or already mine) is claimed for me;
    any other is only shown, with the reason."""
    scope = load_scope(session, user, REVIEWERS)
    moment = moment or now_utc()
    record = record_in_scope(session, scope, record_id)
    if record.status in OPEN_STATUSES:
        mine = record.assigned_to_id == scope.user.id
        free = session.scalar(select(Record.id).where(Record.id == record.id, claim_is_free(moment))) is not None
        if mine or free:
            claim_record(session, scope.user, record.id, policy, moment)
            return BrowsedRecord(record.id, True, "")
        return BrowsedRecord(record.id, False, "Bản ghi này đang được người khác xác minh; chỉ xem được.")
    return BrowsedRecord(record.id, False, _closed_note_vi(session, scope, record))


def _closed_note_vi(session: Session, scope: Scope, record: Record) -> str:
    if record.status == RecordStatus.APPROVED:
        if record.approved_by_id == scope.user.id:
            return "Bạn đã duyệt bản ghi này."
        approver = session.get(User, record.approved_by_id) if record.approved_by_id else None
        name = (approver.full_name or approver.username) if approver else "người khác"
        return f"Bản ghi đã được {name} duyệt."
    if record.status == RecordStatus.FLAGGED:
        return "Bản ghi đã được chuyển tổ kiểm tra."
    return "Bản ghi đã bị tổ kiểm tra trả lại, không còn trong hàng đợi."


# --- undo of the last approval --------------------------------------------------------------------

def _last_approve_event(session: Session, scope: Scope) -> AuditEvent | None:
    return session.scalar(
        select(AuditEvent)
        .where(AuditEvent.user_id == scope.user.id, AuditEvent.action == "approve",
               AuditEvent.entity_type == "record")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )


def _undo_refusal(session: Session, scope: Scope, record: Record, event: AuditEvent) -> tuple[str, str] | None:
    """(English, Vietnamese) why this approval can no longer be undone; None when it can."""
    approved_version = (event.new_value or {}).get("version")
    if record.status != RecordStatus.APPROVED or record.approved_by_id != scope.user.id \
            or approved_version is None or record.version != approved_version:
        return (f"Record {record.id} changed after user {scope.user.id} approved it",
                "Bản ghi đã được người khác thay đổi sau khi bạn duyệt; không hoàn tác được. "
                "Nếu cần sửa, báo tổ kiểm tra.")
    if session.scalar(select(QaCheck.id).where(QaCheck.record_id == record.id).limit(1)) is not None:
        return (f"Record {record.id} was drawn for QA",
                "Bản ghi đã được tổ kiểm tra chọn để kiểm lại; không hoàn tác được.")
    if session.scalar(select(CrosscheckResult.id).where(CrosscheckResult.record_id == record.id).limit(1)) \
            is not None:
        return (f"Record {record.id} was cross-checked against the population database",
                "Bản ghi đã được đối chiếu với cơ sở dữ liệu dân cư; không hoàn tác được.")
    return None


def last_approval(session: Session, user: User) -> LastApproval | None:
    """My most recent approval (of a record still in my scope), and whether I may still undo it."""
    scope = load_scope(session, user, REVIEWERS)
    event = _last_approve_event(session, scope)
    if event is None or event.entity_id is None:
        return None
    record = session.get(Record, event.entity_id)
    if record is None or not scope.covers(record.book.unit_id):
        return None
    refusal = _undo_refusal(session, scope, record, event)
    return LastApproval(
        record_id=record.id, event_id=event.id, page_index=record.page.page_index, row_index=record.row_index,
        approved_at=as_utc(event.at), undoable=refusal is None, refusal_vi=refusal[1] if refusal else "",
    )


def undo_last_approval(
    session: Session, user: User, record_id: int, *, policy: ReviewPolicy = ReviewPolicy(),
    moment: datetime | None = None,
) -> UndoResult:
    """Take back my last approval of `record_id`: the record returns to me "in review" with every field
    value kept; refused once anyone else touched it, or when it is not my last approval."""
    scope = load_scope(session, user, REVIEWERS)
    moment = moment or now_utc()
    record = record_in_scope(session, scope, record_id)
    event = _last_approve_event(session, scope)
    if event is None or event.entity_id != record.id:
        raise InvalidActionError(f"Record {record_id} is not the last approval of user {scope.user.id}",
                                 "Chỉ hoàn tác được lần duyệt gần nhất của bạn.")
    refusal = _undo_refusal(session, scope, record, event)
    if refusal is not None:
        raise ConflictError(*refusal)
    approved_at = record.approved_at
    change_status(session, scope.user, record, RecordStatus.IN_REVIEW, UNDO_ACTION,
                  details={"undone_event_id": event.id,
                           "approved_at": as_utc(approved_at).isoformat() if approved_at else None})
    record.approved_by_id = None
    record.approved_at = None
    expires = moment + timedelta(minutes=policy.claim_minutes)
    record.assigned_to_id = scope.user.id
    record.claim_expires_at = expires
    flush_or_conflict(session, record.id)
    return UndoResult(record.id, record.version, record.status, expires)
