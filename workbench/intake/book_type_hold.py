"""Pages that may not belong to their book are held for the contractor (issue #16 item 6).

The page pipeline (ocr.read.book_type_check) stores ``book_type_mismatch:<type it looks like>`` in
the page's warnings. While that warning stands the page is *held*: its records stay out of every
queue officials and supervisors work from (workbench.review.queue.queue_visible) until the contractor
either confirms that the page belongs to the book (the warning is removed, audited) or deletes
the page. The hold lives in the warnings JSON, so no schema change is needed and the export
lists it with the page's other warnings.

A confirmed page is not held again when it is re-processed: the confirmation is in its audit
trail and save_outcome drops a new mismatch warning for it (the step still records the evidence).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, cast, func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Page, User
from ocr.page_warnings import PageWarning, decode_warnings, encode_warnings
from ocr.read.book_type_check import WARNING, BookTypeCandidate
from workbench.audit import record_event
from workbench.book_types import BookTypeError, all_book_types, get_book_type
from workbench.errors import InvalidActionError
from workbench.scope import CONTRACTORS, load_scope, page_in_scope

CONFIRM_ACTION = "confirm_book_type"


def book_type_candidates() -> tuple[BookTypeCandidate, ...]:
    """Every book type a page could be, with its printed title and columns (from the templates)."""
    return tuple(BookTypeCandidate(key, kind.label, kind.layout) for key, kind in all_book_types().items())


def book_type_label_vi(key: str) -> str:
    try:
        return get_book_type(key).label.lower()
    except BookTypeError:
        return "một loại sổ khác"


def book_type_mismatch_vi(suspected: str) -> str:
    """The held page's warning: which book it looks like, and that officials do not see it yet."""
    looks_like = (f"trang có vẻ thuộc {book_type_label_vi(suspected)}, không phải loại sổ này" if suspected
                  else "trang có vẻ không thuộc loại sổ này")
    return (f"{looks_like} (theo tiêu đề in trên trang hoặc các cột kẻ): trang đang bị giữ lại, cán bộ chưa thấy "
            "các bản ghi của trang; hãy xác nhận trang thuộc sổ này hoặc xoá trang")


def is_mismatch(warning: PageWarning) -> bool:
    return warning.code == WARNING


def is_held(warnings: Iterable[PageWarning]) -> bool:
    return any(is_mismatch(w) for w in warnings)


def suspected_type(warnings: Iterable[PageWarning]) -> str | None:
    """The book type the page looks like, from its mismatch warning (None: not held)."""
    return next((w.param for w in warnings if is_mismatch(w)), None)


def not_held() -> ColumnElement[bool]:
    """SQL: the page carries no book-type mismatch. The warnings are a JSON list of strings, so a
    held page's JSON text holds '"book_type_mismatch' (a quote opens every list item; a file name
    inside another warning never starts one)."""
    text = func.coalesce(cast(Page.warnings, String), "")
    return text.not_like(f'%"{WARNING}%')


def was_confirmed(session: Session, page_id: int) -> bool:
    """The contractor confirmed this page belongs to its book (at any time before)."""
    return session.scalar(
        select(AuditEvent.id).where(AuditEvent.entity_type == "page", AuditEvent.entity_id == page_id,
                                    AuditEvent.action == CONFIRM_ACTION).limit(1)
    ) is not None


def confirm_page_book_type(session: Session, user: User, page_id: int) -> None:
    """Contractor: the page belongs to its book after all; its records go to the officials' queue."""
    scope = load_scope(session, user, CONTRACTORS)
    page = page_in_scope(session, scope, page_id)
    if page.deleted:
        raise InvalidActionError(f"Page {page_id} is deleted", "Trang này đã bị xoá.")
    warnings = list(page.warnings or [])
    if not is_held(decode_warnings(warnings)):
        raise InvalidActionError(f"Page {page_id} is not held for its book type",
                                 "Trang này không bị giữ lại vì nghi sai loại sổ.")
    page.warnings = encode_warnings(w for w in decode_warnings(warnings) if not is_mismatch(w))
    record_event(session, actor=scope.user, entity_type="page", entity_id=page.id, action=CONFIRM_ACTION,
                 old={"warnings": warnings}, new={"warnings": page.warnings, "book_type": page.book.book_type})
