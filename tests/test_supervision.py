"""Supervisors: queues, reassign/unflag/reject, confirmed bulk approval, blind QA error rates, progress."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, CrosscheckResult, FieldStatus, PopulationExtract, Record, RecordStatus, User
from tests.conftest import SAMPLE_CONFIDENCES, record_ids
from workbench.db import transaction
from workbench.errors import ConfirmationRequiredError, ConflictError, InvalidActionError
from workbench.review.progress import local_day_start, my_progress, progress_dashboard
from workbench.review.queue import claim_record, next_record
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record
from workbench.supervision.qa import draw_qa_sample, qa_queue, submit_qa, verifier_error_rates
from workbench.supervision.supervision import (
    bulk_approve_high_confidence,
    count_bulk_approvable,
    crosscheck_mismatch_queue,
    flagged_queue,
    list_reviewers,
    low_confidence_queue,
    reassign,
    reject,
    unflag,
)


def _approve_all(call: Callable[..., Any], user: User, edits: dict[int, dict[str, str]] | None = None) -> list[int]:
    """The official approves their whole queue, typing `edits[record_id]` where given."""
    done = []
    while (claim := call(next_record, user)) is not None:
        call(save_record, user, claim.record_id, claim.version, (edits or {}).get(claim.record_id, {}), "approve")
        done.append(claim.record_id)
    return done


def test_flagged_and_low_confidence_queues(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, other_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, sample_book_id)
    supervisor = users["supervisor"]
    low = call(low_confidence_queue, supervisor, 0.75)
    assert [item.record_id for item in low] == [ids[5], ids[2], ids[3]]  # 0.3, 0.5, 0.7; other unit excluded
    assert low[0].book_label == "Khai sinh 2001 quyển 1" and low[0].unit_name == "Xã Tân Lập"
    claim = call(next_record, users["official"])
    call(save_record, users["official"], claim.record_id, claim.version, {}, "flag", reason="Thiếu trang")
    flagged = call(flagged_queue, supervisor)
    assert [(f.record_id, f.flag_reason) for f in flagged] == [(claim.record_id, "Thiếu trang")]
    assert claim.record_id not in [i.record_id for i in call(low_confidence_queue, supervisor, 1.0)]
    assert call(flagged_queue, users["other_supervisor"]) == []
    assert call(crosscheck_mismatch_queue, supervisor) == []  # nothing cross-checked yet


def test_unflag_returns_the_record_to_the_queue_and_reject_removes_it(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official, supervisor = users["official"], users["supervisor"]
    claim = call(next_record, official)
    flagged = call(save_record, official, claim.record_id, claim.version, {}, "flag", reason="Chữ mờ")
    with pytest.raises(ConflictError):
        call(unflag, supervisor, claim.record_id, flagged.version - 1)
    version = call(unflag, supervisor, claim.record_id, flagged.version)
    assert call(get_record_view, supervisor, claim.record_id).status == RecordStatus.PROPOSED
    assert call(next_record, official).record_id == claim.record_id  # easy first: back at the front
    with pytest.raises(InvalidActionError):
        call(reject, supervisor, claim.record_id, version + 1, "  ")
    call(reject, supervisor, claim.record_id, version + 1, "Dòng gạch bỏ, không phải đăng ký")
    with sessions() as session:
        record = session.get(Record, claim.record_id)
        assert record.status == RecordStatus.REJECTED and record.assigned_to_id is None
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "reject"))
        assert event.new_value["reason"] == "Dòng gạch bỏ, không phải đăng ký"
    assert claim.record_id not in _approve_all(call, official)


def test_reassign_gives_a_claim_to_an_official_covering_the_unit(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    assert [u.username for u in call(list_reviewers, users["supervisor"])] == ["official", "official2", "supervisor"]
    assert [u.username for u in call(list_reviewers, users["other_supervisor"])] == ["other_supervisor", "outsider"]
    target = record_ids(sessions, sample_book_id)[5]  # the hardest record, last in easy-first order
    call(reassign, users["supervisor"], target, users["official2"].id)
    assert call(next_record, users["official2"]).record_id == target
    assert target not in _approve_all(call, users["official"])
    with pytest.raises(InvalidActionError):  # the outsider does not cover Xã Tân Lập
        call(reassign, users["admin"], target, users["outsider"].id)
    with pytest.raises(InvalidActionError):  # contractors do not review
        call(reassign, users["supervisor"], target, users["contractor"].id)
    call(reassign, users["supervisor"], target, None)
    assert call(next_record, users["official"]).record_id == target


def test_bulk_approve_requires_confirmation_and_takes_only_high_confidence(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    supervisor = users["supervisor"]
    ids = record_ids(sessions, sample_book_id)
    held = call(claim_record, users["official"], ids[1])  # the official holds the easiest record (0.99)
    assert held.record_id == ids[1]
    assert call(count_bulk_approvable, supervisor) == 2  # 0.95 and 0.92; 0.99 is claimed
    with pytest.raises(ConfirmationRequiredError):
        call(bulk_approve_high_confidence, supervisor)
    with pytest.raises(InvalidActionError):
        call(bulk_approve_high_confidence, supervisor, confirm=True, threshold=0.5)
    assert call(bulk_approve_high_confidence, supervisor, confirm=True, threshold=0.94, book_id=sample_book_id) == 1
    assert call(bulk_approve_high_confidence, supervisor, confirm=True) == 1
    with sessions() as session:
        statuses = {r.id: r.status for r in session.scalars(select(Record))}
        assert [i for i in ids if statuses[i] == RecordStatus.APPROVED] == [ids[0], ids[4]]
        fields = session.get(Record, ids[0]).fields
        assert {f.status for f in fields} == {FieldStatus.CONFIRMED}
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.user_id == supervisor.id))]
    assert actions.count("bulk_approve") == 4  # two records + two summary events
    assert actions.count("confirm") == 2 * len(fields)


def test_blind_qa_sample_and_error_rate(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    official, supervisor = users["official"], users["supervisor"]
    ids = record_ids(sessions, sample_book_id)
    # The official "corrects" a right proposal into a wrong value on one record.
    approved = _approve_all(call, official, edits={ids[0]: {"sex": "Nam"}})
    assert len(approved) == len(SAMPLE_CONFIDENCES)
    with pytest.raises(InvalidActionError):
        call(draw_qa_sample, supervisor, official.id, 0)
    drawn = call(draw_qa_sample, supervisor, official.id, 100, seed=7)
    assert len(drawn) == len(SAMPLE_CONFIDENCES)
    assert call(draw_qa_sample, supervisor, official.id, 100) == []  # never sampled twice
    queue = call(qa_queue, supervisor)
    assert len(queue) == len(drawn) and call(qa_queue, users["other_supervisor"]) == []
    by_record = {item.record.record_id: item.qa_id for item in queue}
    # Blind: the QA reviewer sees the proposal, not the official's final value.
    assert call(get_record_view, supervisor, ids[0], blind=True).field("sex").value_to_show == "Nữ"
    result = call(submit_qa, supervisor, by_record[ids[0]], {})  # QA reads the proposal "Nữ" again
    assert result.changed_keys == ("sex",) and result.fields_checked == 12
    with pytest.raises(InvalidActionError):
        call(submit_qa, supervisor, by_record[ids[0]], {})  # already done
    call(submit_qa, supervisor, by_record[ids[1]], {})
    view = call(get_record_view, supervisor, ids[0])
    assert view.field("sex").final_value == "Nữ" and view.status == RecordStatus.APPROVED  # QA's value applied
    [quality] = call(verifier_error_rates, supervisor)
    assert (quality.username, quality.records_checked, quality.fields_checked, quality.fields_changed) == (
        "official", 2, 24, 1)
    assert quality.error_rate == pytest.approx(1 / 24)
    assert call(verifier_error_rates, users["other_supervisor"]) == []


def test_nobody_qas_their_own_approvals(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
) -> None:
    _approve_all(call, users["supervisor"])
    [qa_id] = call(draw_qa_sample, users["admin"], users["supervisor"].id, 10, seed=1)
    assert call(qa_queue, users["supervisor"]) == []
    with pytest.raises(InvalidActionError):
        call(submit_qa, users["supervisor"], qa_id, {})


def test_progress_strip_and_dashboard(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, other_book_id: int,
    build_book: Callable[..., int], units: dict[str, int],
) -> None:
    build_book(units["xa_b"], (0.9, 0.8), book_type="khai_tu")
    official = users["official"]
    for _ in range(2):
        claim = call(next_record, official)
        call(save_record, official, claim.record_id, claim.version, {"full_name": "Lê Văn Tám"}, "approve")
    strip = call(my_progress, official)
    assert (strip.approved_today_by_me, strip.unit_total, strip.unit_remaining, strip.unit_approved_today) == (
        2, len(SAMPLE_CONFIDENCES), len(SAMPLE_CONFIDENCES) - 2, 2)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert call(my_progress, official, tomorrow).approved_today_by_me == 0
    board = call(progress_dashboard, users["supervisor"], days=3)
    assert [(g.label, g.total, g.approved) for g in board.by_unit] == [("Xã Tân Hưng", 2, 0), ("Xã Tân Lập", 6, 2)]
    assert [(g.key, g.remaining) for g in board.by_book_type] == [("khai_sinh", 4), ("khai_tu", 2)]
    [activity] = board.by_user
    assert (activity.username, activity.approved, activity.approved_today, activity.fields_corrected) == (
        "official", 2, 2, 2)
    assert len(board.approved_per_day) == 3 and board.approved_per_day[-1][1] == 2
    with pytest.raises(Exception, match="Role"):
        call(progress_dashboard, official)


def test_vietnamese_day_boundary() -> None:
    # 18:30 UTC on 1 March is already 2 March in Vietnam.
    start = local_day_start(datetime(2026, 3, 1, 18, 30, tzinfo=UTC))
    assert start == datetime(2026, 3, 1, 17, 0, tzinfo=UTC)


def test_crosscheck_mismatch_queue_lists_unresolved_differences_in_scope(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, other_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    ids, other = record_ids(sessions, sample_book_id), record_ids(sessions, other_book_id)
    with transaction(sessions) as session:
        extract = PopulationExtract(original_name="trich_xuat.csv", sha256="0" * 64, stored_path="x", row_count=3)
        session.add(extract)
        session.flush()
        outcomes = [(ids[0], "different", None), (ids[1], "match", None), (ids[2], "ambiguous", datetime.now(UTC)),
                    (ids[3], "not_found", None), (other[0], "different", None)]
        session.add_all(CrosscheckResult(record_id=rid, role="child", extract_id=extract.id, status=status,
                                         resolved_at=resolved) for rid, status, resolved in outcomes)
    assert [r.record_id for r in call(crosscheck_mismatch_queue, users["supervisor"])] == [ids[0]]
    assert [r.record_id for r in call(crosscheck_mismatch_queue, users["other_supervisor"])] == [other[0]]
