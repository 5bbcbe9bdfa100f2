"""Saving an official's work on one record: approve, flag, skip or save, with audit and optimistic lock.

Every field the official touched becomes `confirmed` (value equals the proposal) or `corrected`
(`final_value` holds the value exactly as written, only NFC + whitespace normalized). Each field
change and each status change writes an audit event (old -> new, who, when). The record's
`version` must equal `expected_version`, and the UPDATE itself re-checks it, so a record changed
by someone else meanwhile raises ConflictError and nothing is overwritten. Any action ends the
record's drafts (workbench.review.drafts): saving ends the acting user's, the others end everyone's. An
approval the official confirmed despite `approval_checks` concerns carries them in its audit event;
every approve event carries the version the approval gave the record (for undo: workbench.review.book_order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from models import FieldStatus, FieldValue, Record, RecordStatus, Role, User
from ocr.fields import clean_text
from workbench.audit import record_event
from workbench.errors import ConflictError, InvalidActionError
from workbench.intake.registration_sequence import recheck_book_sequence, sequence_key
from workbench.policy import ReviewPolicy
from workbench.review.approval_checks import ApprovalConcern, audit_payload
from workbench.review.drafts import clear_drafts
from workbench.review.queue import OPEN_STATUSES, as_utc, now_utc
from workbench.scope import REVIEWERS, Scope, load_scope, record_in_scope


class ReviewAction(StrEnum):
    APPROVE = "approve"  # Duyệt: store the values, status approved, release the claim
    FLAG = "flag"  # Chuyển tổ kiểm tra: store the values given, status flagged with a reason
    SKIP = "skip"  # Bỏ qua: discard edits, release the claim, record goes to the end of my queue
    SAVE = "save"  # Lưu: store the values given, keep (and renew) the claim, status in_review


@dataclass(frozen=True)
class SaveResult:
    record_id: int
    version: int  # the record's new version
    status: str
    fields_confirmed: int  # fields that became confirmed in this call
    fields_corrected: int  # fields that became corrected in this call
    corrected_on_record: int  # fields whose value now differs from the OCR proposal, whenever corrected


CONFLICT_VI = "Bản ghi đã được người khác thay đổi. Vui lòng tải lại trước khi lưu."


def save_record(
    session: Session,
    user: User,
    record_id: int,
    expected_version: int,
    values: dict[str, str] | None = None,
    action: str = ReviewAction.SAVE,
    *,
    reason: str = "",
    moment: datetime | None = None,
    policy: ReviewPolicy = ReviewPolicy(),
    confirmed: Sequence[ApprovalConcern] = (),
) -> SaveResult:
    """Apply one review action. `values` maps field keys to what the official typed; missing keys
    keep their current value (so approving a record whose proposals are right is `values={}`).
    `confirmed`: the approval concerns the official was shown and confirmed (kept in the audit)."""
    scope = load_scope(session, user, REVIEWERS)
    try:
        review_action = ReviewAction(action)
    except ValueError:
        raise InvalidActionError(f"Unknown review action '{action}'", "Thao tác không hợp lệ.") from None
    moment = moment or now_utc()
    record = record_in_scope(session, scope, record_id)
    if record.version != expected_version:
        raise ConflictError(f"Record {record_id} is at version {record.version}, not {expected_version}", CONFLICT_VI)
    _check_may_review(scope, record)
    _check_not_held_by_another(scope, record, moment)
    values = values or {}
    unknown = sorted(set(values) - {f.key for f in record.fields})
    if unknown:
        raise InvalidActionError(f"Record {record_id} has no fields {unknown}", "Trường dữ liệu không hợp lệ.")
    if review_action == ReviewAction.FLAG and not clean_text(reason):
        raise InvalidActionError("Flagging needs a reason", "Vui lòng ghi lý do chuyển tổ kiểm tra.")

    numbers_before = _registration_numbers(record)
    confirmed_count = corrected = 0
    if review_action != ReviewAction.SKIP:
        decide_all = review_action == ReviewAction.APPROVE
        for field in record.fields:
            if field.key in values or decide_all:
                typed = values.get(field.key, _current_value(field))
                became = apply_field_value(session, scope.user, field, typed, moment)
                confirmed_count += became == FieldStatus.CONFIRMED
                corrected += became == FieldStatus.CORRECTED
    _apply_status(session, scope.user, record, review_action, clean_text(reason), moment, confirmed)
    if review_action == ReviewAction.SAVE:
        # Saving is a sign of life: the claim is renewed so slow, careful work is not taken away.
        record.assigned_to_id = scope.user.id
        record.claim_expires_at = moment + timedelta(minutes=policy.claim_minutes)
    # The record row is always written, so its version moves and the WHERE version = old re-check runs.
    flag_modified(record, "status")
    flush_or_conflict(session, record_id)
    # What was typed is now stored (or, on skip, deliberately dropped): no draft may bring it back.
    # After the flush: the DELETE would autoflush the record and hide a conflict from flush_or_conflict.
    clear_drafts(session, record.id, scope.user.id if review_action == ReviewAction.SAVE else None)
    if _registration_numbers(record) != numbers_before:
        # The official's number may close a gap or open one: the book's page warnings follow it.
        recheck_book_sequence(session, scope.user, record.book_id)
    corrected_total = sum(f.status == FieldStatus.CORRECTED for f in record.fields)
    return SaveResult(record.id, record.version, record.status, confirmed_count, corrected, corrected_total)


def flush_or_conflict(session: Session, record_id: int) -> None:
    """Flush; a record UPDATE whose `WHERE version = :old` matched nothing becomes a ConflictError."""
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"Record {record_id} changed while saving", CONFLICT_VI) from None


def _check_may_review(scope: Scope, record: Record) -> None:
    """Officials work open records (their queue); supervisors and admins may also fix flagged/approved ones."""
    if record.status in OPEN_STATUSES:
        return
    if scope.user.role == Role.OFFICIAL:
        raise InvalidActionError(
            f"Record {record.id} is {record.status}; officials only review open records",
            "Bản ghi này không còn trong hàng đợi của bạn.",
        )


def _check_not_held_by_another(scope: Scope, record: Record, moment: datetime) -> None:
    """A live claim of another user wins: their work must not be overwritten (even at the same version)."""
    expires = record.claim_expires_at
    if record.assigned_to_id not in (None, scope.user.id) and expires is not None and as_utc(expires) >= moment:
        raise ConflictError(f"Record {record.id} is claimed by user {record.assigned_to_id}",
                            "Bản ghi đang được người khác xử lý.")


def _registration_numbers(record: Record) -> list[str]:
    key = sequence_key(record.book.book_type)
    return [_current_value(f) for f in record.fields if f.key == key]


def _current_value(field: FieldValue) -> str:
    return field.final_value if field.status != FieldStatus.PROPOSED and field.final_value is not None \
        else field.proposed_value


def apply_field_value(session: Session, actor: User, field: FieldValue, typed: str, moment: datetime) -> str | None:
    """Set one field from what was typed; returns the new status if the field changed, else None."""
    value = clean_text(typed)
    status = FieldStatus.CONFIRMED if value == clean_text(field.proposed_value) else FieldStatus.CORRECTED
    if field.status == status and field.final_value == value:
        return None
    old = {"status": field.status, "value": _current_value(field)}
    field.status = status
    field.final_value = value
    field.edited_by_id = actor.id
    field.edited_at = moment
    record_event(session, actor=actor, entity_type="field", entity_id=field.id,
                 action="confirm" if status == FieldStatus.CONFIRMED else "correct",
                 old=old, new={"status": str(status), "value": value, "key": field.key, "record_id": field.record_id})
    return status


def change_status(
    session: Session, actor: User, record: Record, status: str, action: str, *, reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Set a record's status and audit it (old -> new); `reason` is the flag reason or a note,
    `details` more facts for the event (e.g. the approval concerns the official confirmed)."""
    old = {"status": record.status, "flag_reason": record.flag_reason}
    record.status = status
    record.flag_reason = reason if status == RecordStatus.FLAGGED else None
    new: dict[str, Any] = {"status": str(status), "flag_reason": record.flag_reason}
    if reason and status != RecordStatus.FLAGGED:
        new["reason"] = reason  # e.g. why a supervisor rejected it
    new.update(details or {})
    record_event(session, actor=actor, entity_type="record", entity_id=record.id, action=action, old=old, new=new)


def release(record: Record) -> None:
    record.assigned_to_id = None
    record.claim_expires_at = None


def _apply_status(
    session: Session, actor: User, record: Record, action: ReviewAction, reason: str, moment: datetime,
    confirmed: Sequence[ApprovalConcern] = (),
) -> None:
    if action == ReviewAction.APPROVE:
        # The official's explicit "approve anyway": which fields, which rules (issue #15 item 2).
        # `version`: what this save gives the record (one flush, +1). While the record still has it,
        # nobody else has touched it since, and the approver may undo it (workbench.review.book_order).
        details: dict[str, Any] = {"version": record.version + 1}
        if confirmed:
            details["confirmed_concerns"] = audit_payload(confirmed)
        change_status(session, actor, record, RecordStatus.APPROVED, "approve", details=details)
        record.approved_by_id = actor.id
        record.approved_at = moment
        release(record)
    elif action == ReviewAction.FLAG:
        change_status(session, actor, record, RecordStatus.FLAGGED, "flag", reason=reason)
        release(record)
    elif action == ReviewAction.SKIP:
        # The skip event is also what sends the record to the end of this user's queue.
        record_event(session, actor=actor, entity_type="record", entity_id=record.id, action="skip",
                     old={"assigned_to_id": record.assigned_to_id}, new={"assigned_to_id": None})
        release(record)
    elif record.status == RecordStatus.PROPOSED:
        change_status(session, actor, record, RecordStatus.IN_REVIEW, "save")
