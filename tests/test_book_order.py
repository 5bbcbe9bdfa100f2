"""Issue #15 item 6 on a real SQLite file: officials are served in book order by default, the position
in the book, the record before / after, stepping back to a record, and undoing the last approval only
until someone else touches the record (with the audit trail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, Page, Record, RecordStatus, User
from tests.conftest import record_ids
from workbench.db import transaction
from workbench.errors import ConflictError, InvalidActionError, ScopeError
from workbench.review.book_order import (
    UNDO_ACTION,
    book_position,
    last_approval,
    neighbour_record,
    open_in_book,
    undo_last_approval,
)
from workbench.review.queue import next_record, set_queue_order
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record
from workbench.supervision.qa import draw_qa_sample
from workbench.supervision.supervision import reject

# Deliberately not in confidence order: book order must not care.
CONFIDENCES = (0.5, 0.99, 0.3, 0.97, 0.8, 0.95, 0.6)


def _approve(call: Callable[..., Any], user: User, record_id: int, values: dict[str, str] | None = None) -> None:
    view = call(get_record_view, user, record_id)
    call(save_record, user, record_id, view.version, values or {}, "approve")


@pytest.fixture()
def book(build_book: Callable[..., int], units: dict[str, int]) -> int:
    """Seven records on two pages (rows 1-4 on page 1, rows 1-3 on page 2)."""
    return build_book(units["xa_a"], CONFIDENCES, rows_per_page=4)


def test_officials_get_book_order_by_default_and_easy_first_stays_a_choice(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], book: int,
    sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, book)
    official = users["official"]
    served = []
    for _ in range(3):
        claim = call(next_record, official)
        served.append(claim.record_id)
        _approve(call, official, claim.record_id)
    assert served == ids[:3]  # page 1 rows 1, 2, 3: not the most confident first
    # A supervisor may still choose "easy first" for the unit: highest confidence of what is left.
    call(set_queue_order, users["supervisor"], "easy_first", units["xa_a"])
    assert call(next_record, users["official2"]).record_id == ids[3]  # 0.97, the most confident left


def test_easy_first_when_chosen_serves_the_most_confident(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], book: int,
    sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, book)
    call(set_queue_order, users["supervisor"], "easy_first", units["xa_a"])
    assert call(next_record, users["official"]).record_id == ids[1]  # 0.99
    assert call(next_record, users["official2"]).record_id == ids[3]  # 0.97


def test_position_in_the_book(call: Callable[..., Any], users: dict[str, User], book: int,
                              sessions: sessionmaker[Session]) -> None:
    ids = record_ids(sessions, book)
    official = users["official"]
    _approve(call, official, ids[0])
    position = call(book_position, official, ids[5])  # page 2, row 2
    assert (position.page_number, position.page_count, position.row_number, position.row_count) == (2, 2, 2, 3)
    assert (position.book_open, position.book_total) == (6, 7)
    first = call(book_position, official, ids[0])
    assert (first.page_number, first.row_number, first.row_count) == (1, 1, 4)
    # A deleted page leaves the count: page 2 becomes page 1 of 1.
    with transaction(sessions) as session:
        session.scalars(select(Page).where(Page.book_id == book, Page.page_index == 1)).one().deleted = True
    moved = call(book_position, official, ids[5])
    assert (moved.page_number, moved.page_count, moved.book_total) == (1, 1, 3)
    with pytest.raises(ScopeError):
        call(book_position, users["outsider"], ids[0])


def test_neighbours_cross_pages_and_stop_at_the_ends(call: Callable[..., Any], users: dict[str, User], book: int,
                                                     sessions: sessionmaker[Session]) -> None:
    ids = record_ids(sessions, book)
    official = users["official"]
    assert call(neighbour_record, official, ids[4], -1) == ids[3]  # page 2 row 1 -> page 1 row 4
    assert call(neighbour_record, official, ids[3], 1) == ids[4]
    assert call(neighbour_record, official, ids[2], -1) == ids[1]
    assert call(neighbour_record, official, ids[0], -1) is None
    assert call(neighbour_record, official, ids[-1], 1) is None
    with pytest.raises(InvalidActionError):
        call(neighbour_record, official, ids[2], 2)
    with pytest.raises(ScopeError):
        call(neighbour_record, users["outsider"], ids[2], -1)


def test_stepping_back_claims_an_open_record_and_only_shows_a_closed_one(
    call: Callable[..., Any], users: dict[str, User], book: int, sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, book)
    official, other = users["official"], users["official2"]
    _approve(call, official, call(next_record, official).record_id)  # row 1 approved by me
    held_by_other = call(next_record, other).record_id  # row 2 held by official2
    assert held_by_other == ids[1]
    mine = call(open_in_book, official, ids[0])
    assert (mine.editable, mine.note_vi) == (False, "Bạn đã duyệt bản ghi này.")
    theirs = call(open_in_book, official, ids[1])
    assert not theirs.editable and "người khác" in theirs.note_vi
    free = call(open_in_book, official, ids[4])
    assert free.editable
    with sessions() as session:
        assert session.get(Record, ids[4]).assigned_to_id == official.id
    assert call(open_in_book, official, ids[4]).editable  # opening it again keeps my claim
    assert not call(open_in_book, other, ids[4]).editable  # and nobody else gets it meanwhile
    _approve(call, other, held_by_other)
    seen_by_other = call(open_in_book, other, ids[0])
    assert not seen_by_other.editable and "Người thử official" in seen_by_other.note_vi


def test_undo_returns_the_last_approval_with_its_values_and_is_audited(
    call: Callable[..., Any], users: dict[str, User], book: int, sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, book)
    official = users["official"]
    assert call(last_approval, official) is None
    first = call(next_record, official).record_id
    _approve(call, official, first, {"full_name": "Trần Thị Sửa"})
    second = call(next_record, official).record_id
    _approve(call, official, second)
    last = call(last_approval, official)
    assert (last.record_id, last.undoable, last.refusal_vi) == (second, True, "")
    assert (last.page_index, last.row_index) == (1, 2)
    # Only the last approval: the one before cannot be undone.
    with pytest.raises(InvalidActionError):
        call(undo_last_approval, official, first)
    third = call(next_record, official).record_id  # the official is already on the next record
    assert third == ids[2]
    result = call(undo_last_approval, official, second)
    assert result.status == RecordStatus.IN_REVIEW
    with sessions() as session:
        record = session.get(Record, second)
        assert (record.status, record.approved_by_id, record.approved_at) == (RecordStatus.IN_REVIEW, None, None)
        assert record.assigned_to_id == official.id  # back to the official, opened for them
        assert {f.status for f in record.fields} == {FieldStatus.CONFIRMED}  # decisions kept
        [undo] = session.scalars(select(AuditEvent).where(AuditEvent.action == UNDO_ACTION)).all()
        assert (undo.entity_type, undo.entity_id, undo.user_id) == ("record", second, official.id)
        assert (undo.old_value["status"], undo.new_value["status"]) == ("approved", "in_review")
        assert undo.new_value["undone_event_id"] == last.event_id
        first_record = session.get(Record, first)
        name = next(f for f in first_record.fields if f.key == "full_name")
        assert (name.final_value, name.status) == ("Trần Thị Sửa", FieldStatus.CORRECTED)
    # The undone record is the one the queue gives back first; approving it again works.
    assert call(next_record, official).record_id == second
    _approve(call, official, second)
    # Undoing twice: the first undo's approval is gone, the re-approval is the new last one.
    assert call(last_approval, official).record_id == second
    assert call(last_approval, official).undoable


def test_undo_keeps_a_correction_made_before_approval(
    call: Callable[..., Any], users: dict[str, User], book: int, sessions: sessionmaker[Session],
) -> None:
    official = users["official"]
    record_id = call(next_record, official).record_id
    _approve(call, official, record_id, {"full_name": "Lê Văn Đúng"})
    call(undo_last_approval, official, record_id)
    view = call(get_record_view, official, record_id)
    assert view.field("full_name").value_to_show == "Lê Văn Đúng"
    assert view.status == RecordStatus.IN_REVIEW


@pytest.mark.parametrize("touch", ["supervisor_save", "supervisor_reject", "qa_draw"])
def test_undo_is_refused_once_someone_else_touched_the_record(
    touch: str, call: Callable[..., Any], users: dict[str, User], book: int, sessions: sessionmaker[Session],
) -> None:
    official, supervisor = users["official"], users["supervisor"]
    record_id = call(next_record, official).record_id
    _approve(call, official, record_id)
    version = call(get_record_view, official, record_id).version
    if touch == "supervisor_save":
        call(save_record, supervisor, record_id, version, {"full_name": "Tổ kiểm tra sửa"}, "save")
    elif touch == "supervisor_reject":
        call(reject, supervisor, record_id, version, "Không phải bản đăng ký")
    else:
        call(draw_qa_sample, supervisor, official.id, 100)
    last = call(last_approval, official)
    assert last is not None and not last.undoable and last.refusal_vi
    with pytest.raises(ConflictError) as refused:
        call(undo_last_approval, official, record_id)
    assert refused.value.message_vi == last.refusal_vi
    with sessions() as session:
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action == UNDO_ACTION)).all()


def test_undo_is_only_for_the_approver_in_scope(
    call: Callable[..., Any], users: dict[str, User], book: int,
) -> None:
    official = users["official"]
    record_id = call(next_record, official).record_id
    _approve(call, official, record_id)
    with pytest.raises(InvalidActionError):  # not official2's approval
        call(undo_last_approval, users["official2"], record_id)
    with pytest.raises(ScopeError):
        call(undo_last_approval, users["outsider"], record_id)
    with pytest.raises(ScopeError):  # contractors verify nothing
        call(last_approval, users["contractor"])
    assert call(last_approval, users["official2"]) is None
