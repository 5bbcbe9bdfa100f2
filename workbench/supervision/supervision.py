"""Supervisors' work: queues (flagged, low confidence, cross-check mismatches), reassign, unflag,
reject, and bulk approval of all-high-confidence records (only with an explicit confirmation).

The low-confidence queue ranks records by the expected number of wrong fields
(workbench.review.queue.record_risk), not by their weakest field; the flagged queue says who flagged
each record and when (from the audit trail).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from models import (
    AuditEvent,
    Book,
    CrosscheckResult,
    CrosscheckStatus,
    FieldStatus,
    FieldValue,
    Page,
    Record,
    RecordStatus,
    Role,
    User,
)
from workbench.accounts.admin import UserSummary, user_summary
from workbench.audit import record_event
from workbench.book_types import all_book_types, get_book_type
from workbench.errors import ConfirmationRequiredError, ConflictError, InvalidActionError
from workbench.intake.registration_sequence import apply_book_sequence
from workbench.policy import ReviewPolicy
from workbench.review.queue import (
    OPEN_STATUSES,
    FieldEvidence,
    FieldRisk,
    RecordRisk,
    as_utc,
    claim_is_free,
    field_error_sql,
    never_read,
    now_utc,
    queue_visible,
    rank_by_expected_errors,
    record_risk,
    try_claim,
)
from workbench.review.record_view import RecordSummary, summarize
from workbench.review.review import apply_field_value, change_status, flush_or_conflict, release
from workbench.scope import (
    REVIEWERS,
    SUPERVISORS,
    Scope,
    book_in_scope,
    load_scope,
    record_in_scope,
    user_in_scope,
)


def _records_in_scope(scope: Scope) -> Select[Record]:
    return (
        select(Record)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(queue_visible(scope))
        .options(joinedload(Record.book).joinedload(Book.unit), joinedload(Record.page))
    )


@dataclass(frozen=True)
class FlaggedRecord(RecordSummary):
    """A flagged record with who flagged it and when (None for a record flagged before the audit trail)."""

    flagged_by_id: int | None = None
    flagged_by: str | None = None  # the account name as audited
    flagged_at: datetime | None = None  # UTC


@dataclass(frozen=True)
class RankedRecord(RecordSummary):
    """An open record of the low-confidence queue with its expected number of wrong fields."""

    expected_wrong: float = 0.0
    weak_fields: tuple[FieldRisk, ...] = ()  # unsettled fields below the threshold, most likely wrong first
    field_labels: tuple[tuple[str, str], ...] = ()  # (key, label) of the book type, for the weak fields
    official_id: int | None = None  # who holds the record now, else who last typed in it


def flagged_queue(session: Session, user: User, limit: int = 200) -> list[FlaggedRecord]:
    """Flagged records in scope, in book order, each with its latest flag event (who, when)."""
    scope = load_scope(session, user, SUPERVISORS)
    query = (_records_in_scope(scope).where(Record.status == RecordStatus.FLAGGED)
             .order_by(Book.id, Page.page_index, Record.row_index).limit(limit))
    records = list(session.scalars(query))
    flags: dict[int, tuple[int | None, str, datetime]] = {}
    if records:
        events = session.execute(
            select(AuditEvent.entity_id, AuditEvent.user_id, AuditEvent.actor, AuditEvent.at)
            .where(AuditEvent.entity_type == "record", AuditEvent.action == "flag",
                   AuditEvent.entity_id.in_([r.id for r in records]))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        # The latest wins; entity_id is nullable in general, never here (the IN filter).
        flags = {rid: (uid, actor, as_utc(at)) for rid, uid, actor, at in events if rid is not None}
    result = []
    for record in records:
        by_id, by, at = flags.get(record.id, (None, None, None))
        result.append(FlaggedRecord(**vars(summarize(record)), flagged_by_id=by_id, flagged_by=by, flagged_at=at))
    return result


# The queue's main query joins FieldValue to sum over it; its EXISTS tests use their own alias so
# they are not correlated to (and silently restricted to) the outer query's field row.
def _weak_field(threshold: float, field_type: str | None = None) -> ColumnElement[bool]:
    """The record has an unsettled field (of this type, if given) below the threshold."""
    field = aliased(FieldValue)
    conditions = [field.record_id == Record.id, field.status == FieldStatus.PROPOSED, field.confidence < threshold]
    if field_type is not None:  # the keys of a field type differ per book type
        per_type = [
            and_(Book.book_type == key, field.key.in_([c.key for c in kind.columns if c.field_type == field_type]))
            for key, kind in all_book_types().items() if any(c.field_type == field_type for c in kind.columns)
        ]
        conditions.append(or_(*per_type) if per_type else false())
    return exists().where(*conditions)


def _worked_by(official_id: int) -> ColumnElement[bool]:
    field = aliased(FieldValue)
    typed = exists().where(field.record_id == Record.id, field.edited_by_id == official_id)
    return or_(Record.assigned_to_id == official_id, typed)


def low_confidence_queue(
    session: Session, user: User, threshold: float, limit: int = 200, *, field_type: str | None = None,
    book_id: int | None = None, official_id: int | None = None,
) -> list[RankedRecord]:
    """Open records with an unsettled field below `threshold`, most expected wrong fields first.

    Filters: `field_type` (a weak field of that type), `book_id`, `official_id` (holds the record
    or typed in it). The database sums the fields' error probabilities to pick and order the top
    `limit`; each row then carries its weak fields from the same rule in Python."""
    scope = load_scope(session, user, SUPERVISORS)
    # Record.confidence is the weakest proposal: a cheap, indexed first cut before the field check.
    conditions = [queue_visible(scope), Record.status.in_(OPEN_STATUSES), Record.confidence < threshold,
                  _weak_field(threshold, field_type)]
    if book_id is not None:
        book_in_scope(session, scope, book_id)
        conditions.append(Record.book_id == book_id)
    if official_id is not None:
        conditions.append(_worked_by(official_id))
    expected = func.sum(field_error_sql())
    top = select(Record.id).join(Book, Record.book_id == Book.id).join(Page, Record.page_id == Page.id) \
        .join(FieldValue, FieldValue.record_id == Record.id).where(*conditions).group_by(Record.id) \
        .order_by(expected.desc(), Record.confidence, Record.id).limit(limit)
    ids = list(session.scalars(top))
    records = {r.id: r for r in session.scalars(
        _records_in_scope(scope).where(Record.id.in_(ids)).options(joinedload(Record.fields))).unique()}
    risks = rank_by_expected_errors(_risk_of(records[rid]) for rid in ids)
    return [_ranked(records[risk.record_id], risk, threshold) for risk in risks]


def _risk_of(record: Record) -> RecordRisk:
    types = {c.key: c.field_type for c in get_book_type(record.book.book_type).columns}
    return record_risk(record.id, (
        FieldEvidence(f.key, types.get(f.key, "free_text"), f.proposed_value, f.confidence,
                      settled=f.status != FieldStatus.PROPOSED, read=not never_read(f.engine, f.proposed_value))
        for f in record.fields
    ))


def _ranked(record: Record, risk: RecordRisk, threshold: float) -> RankedRecord:
    editors = sorted((f for f in record.fields if f.edited_by_id is not None and f.edited_at is not None),
                     key=lambda f: as_utc(f.edited_at) if f.edited_at else now_utc())
    official = record.assigned_to_id or (editors[-1].edited_by_id if editors else None)
    labels = tuple((c.key, c.label) for c in get_book_type(record.book.book_type).columns)
    return RankedRecord(**vars(summarize(record)), expected_wrong=risk.expected_wrong,
                        weak_fields=risk.weak_fields(threshold), field_labels=labels, official_id=official)


def list_reviewers(session: Session, user: User) -> list[UserSummary]:
    """Active officials and supervisors a supervisor may assign work to: every unit of theirs is in
    the acting user's scope (admins: all). For the reassign and QA pickers."""
    scope = load_scope(session, user, SUPERVISORS)
    candidates = session.scalars(
        select(User).where(User.active.is_(True), User.role.in_((Role.OFFICIAL, Role.SUPERVISOR)))
        .order_by(User.username)
    )
    return [
        user_summary(other) for other in candidates
        if other.units and all(scope.covers(unit.id) for unit in other.units)
    ]


# Cross-check outcomes that go on the tracking list for a supervisor to verify (never overwritten).
MISMATCH_STATUSES = (CrosscheckStatus.DIFFERENT, CrosscheckStatus.AMBIGUOUS)


def crosscheck_mismatch_queue(session: Session, user: User, limit: int = 200) -> list[RecordSummary]:
    """Approved records with an unresolved population cross-check mismatch (found but different, or
    ambiguous), in book order. Per-person details and resolving are in workbench.crosscheck.tracking."""
    scope = load_scope(session, user, SUPERVISORS)
    open_mismatch = select(CrosscheckResult.record_id).where(
        CrosscheckResult.status.in_(MISMATCH_STATUSES), CrosscheckResult.resolved_at.is_(None)
    )
    query = (_records_in_scope(scope).where(Record.id.in_(open_mismatch))
             .order_by(Book.id, Page.page_index, Record.row_index).limit(limit))
    return [summarize(record) for record in session.scalars(query)]


def reassign(session: Session, user: User, record_id: int, to_user_id: int | None, *,
             expected_version: int | None = None, policy: ReviewPolicy = ReviewPolicy(),
             moment: datetime | None = None) -> int:
    """Give an open record to another reviewer in scope (a fresh claim), or free it (None).
    Returns the record's new version."""
    scope = load_scope(session, user, SUPERVISORS)
    record = _expect(session, scope, record_id, expected_version)
    if record.status not in OPEN_STATUSES:
        raise InvalidActionError(f"Record {record_id} is {record.status}, not open",
                                 "Chỉ giao lại được bản ghi đang chờ xử lý.")
    old = {"assigned_to_id": record.assigned_to_id}
    if to_user_id is None:
        release(record)
    else:
        target = user_in_scope(session, scope, to_user_id)
        if target.role not in (Role.OFFICIAL, Role.SUPERVISOR) or not target.active:
            raise InvalidActionError(f"User {to_user_id} is not an active official or supervisor",
                                     "Chỉ giao được cho cán bộ hoặc tổ kiểm tra đang hoạt động.")
        if not load_scope(session, target, REVIEWERS).covers(record.book.unit_id):
            raise InvalidActionError(f"User {to_user_id} does not cover record {record_id}'s unit",
                                     "Người được giao không phụ trách đơn vị của bản ghi này.")
        record.assigned_to_id = target.id
        record.claim_expires_at = (moment or now_utc()) + timedelta(minutes=policy.claim_minutes)
    record_event(session, actor=scope.user, entity_type="record", entity_id=record.id, action="reassign",
                 old=old, new={"assigned_to_id": record.assigned_to_id})
    flush_or_conflict(session, record_id)
    return record.version


def unflag(session: Session, user: User, record_id: int, expected_version: int) -> int:
    """Send a flagged record back to the officials' queue. Returns the new version."""
    scope = load_scope(session, user, SUPERVISORS)
    record = _expect(session, scope, record_id, expected_version)
    if record.status != RecordStatus.FLAGGED:
        raise InvalidActionError(f"Record {record_id} is not flagged", "Bản ghi này không bị gắn cờ.")
    started = any(f.status != FieldStatus.PROPOSED for f in record.fields)
    change_status(session, scope.user, record, RecordStatus.IN_REVIEW if started else RecordStatus.PROPOSED, "unflag")
    flush_or_conflict(session, record_id)
    return record.version


def reject(session: Session, user: User, record_id: int, expected_version: int, reason: str) -> int:
    """Mark a record rejected (not a registration, unusable row). Returns the new version."""
    scope = load_scope(session, user, SUPERVISORS)
    record = _expect(session, scope, record_id, expected_version)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidActionError("Rejecting needs a reason", "Vui lòng ghi lý do loại bản ghi.")
    if record.status == RecordStatus.REJECTED:
        raise InvalidActionError(f"Record {record_id} is already rejected", "Bản ghi đã bị loại.")
    change_status(session, scope.user, record, RecordStatus.REJECTED, "reject", reason=reason)
    release(record)
    flush_or_conflict(session, record_id)
    # A rejected row is no registration: its number neither fills nor repeats the book's sequence.
    apply_book_sequence(session, record.book_id, scope.user)
    return record.version


def _expect(session: Session, scope: Scope, record_id: int, expected_version: int | None) -> Record:
    record = record_in_scope(session, scope, record_id)
    if expected_version is not None and record.version != expected_version:
        raise ConflictError(f"Record {record_id} is at version {record.version}, not {expected_version}",
                            "Bản ghi đã được người khác thay đổi. Vui lòng tải lại.")
    return record


# --- bulk approval ------------------------------------------------------------------------------

def _bulk_candidates(session: Session, scope: Scope, book_id: int | None, threshold: float,
                     moment: datetime) -> list[Record]:
    """Unclaimed, untouched records whose every field is at or above the threshold with no messages."""
    query = _records_in_scope(scope).where(
        Record.status == RecordStatus.PROPOSED, Record.confidence >= threshold, claim_is_free(moment)
    )
    if book_id is not None:
        book_in_scope(session, scope, book_id)
        query = query.where(Record.book_id == book_id)
    records = session.scalars(query.order_by(Record.id).options(joinedload(Record.fields))).unique()
    return [
        r for r in records
        if r.fields and all(f.confidence >= threshold and not f.messages for f in r.fields)
    ]


def _bulk_threshold(threshold: float | None, policy: ReviewPolicy) -> float:
    chosen = policy.bands.high if threshold is None else threshold
    if chosen < policy.bands.high:
        raise InvalidActionError(
            f"Bulk approval threshold {chosen} is below the high band {policy.bands.high}",
            f"Chỉ được duyệt hàng loạt các bản ghi có độ tin cậy từ {policy.bands.high:.0%} trở lên.",
        )
    return chosen


def count_bulk_approvable(session: Session, user: User, *, book_id: int | None = None,
                          threshold: float | None = None, policy: ReviewPolicy = ReviewPolicy(),
                          moment: datetime | None = None) -> int:
    """How many records bulk_approve_high_confidence would approve (shown before confirming)."""
    scope = load_scope(session, user, SUPERVISORS)
    return len(_bulk_candidates(session, scope, book_id, _bulk_threshold(threshold, policy), moment or now_utc()))


def bulk_approve_high_confidence(session: Session, user: User, *, confirm: bool = False, book_id: int | None = None,
                                 threshold: float | None = None, policy: ReviewPolicy = ReviewPolicy(),
                                 moment: datetime | None = None) -> int:
    """Approve every unclaimed, untouched record in scope whose every field is at or above `threshold`
    (never below policy.bands.high) and carries no validator message. Raises
    ConfirmationRequiredError unless confirm=True. Every field and record change is audited.
    Returns how many were approved."""
    scope = load_scope(session, user, SUPERVISORS)
    chosen = _bulk_threshold(threshold, policy)
    if confirm is not True:
        raise ConfirmationRequiredError("Bulk approval needs confirm=True",
                                        "Cần xác nhận trước khi duyệt hàng loạt.")
    moment = moment or now_utc()
    approved = 0
    for candidate in _bulk_candidates(session, scope, book_id, chosen, moment):
        # Claim first (atomic): a record an official grabbed meanwhile is left to them.
        if not try_claim(session, candidate.id, candidate.version, scope.user.id, moment, moment):
            continue
        record = record_in_scope(session, scope, candidate.id)
        for field in record.fields:
            apply_field_value(session, scope.user, field, field.proposed_value, moment)
        change_status(session, scope.user, record, RecordStatus.APPROVED, "bulk_approve")
        record.approved_by_id = scope.user.id
        record.approved_at = moment
        release(record)
        flush_or_conflict(session, record.id)
        approved += 1
    record_event(session, actor=scope.user, entity_type="bulk_approve", entity_id=book_id, action="bulk_approve",
                 new={"count": approved, "threshold": chosen, "book_id": book_id})
    return approved
