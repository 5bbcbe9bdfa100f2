"""Blind QA of approved records: draw a sample per verifier, re-check it seeing only the proposals,
and compute each verifier's error rate = fields QA changed / fields QA checked.

The QA reviewer opens the record with `get_record_view(..., blind=True)` (finals hidden) and
submits what they read; a field counts as an error of the verifier when QA's value differs from
the verifier's final value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from models import Book, FieldStatus, FieldValue, Page, QaCheck, Record, RecordStatus, User
from ocr.fields import clean_text
from workbench.audit import record_event
from workbench.errors import InvalidActionError, NotFoundError
from workbench.review.queue import now_utc, queue_visible
from workbench.review.record_view import RecordSummary, summarize
from workbench.review.review import apply_field_value, flush_or_conflict
from workbench.scope import SUPERVISORS, Scope, load_scope, record_in_scope, user_in_scope


@dataclass(frozen=True)
class QaItem:
    qa_id: int
    record: RecordSummary
    verifier_id: int
    sampled_at: datetime


@dataclass(frozen=True)
class FieldComparison:
    """One field after the re-check: what QA keyed beside what the verifier had approved."""

    key: str
    qa_value: str
    verifier_value: str

    @property
    def changed(self) -> bool:
        return self.qa_value != self.verifier_value


@dataclass(frozen=True)
class QaResult:
    qa_id: int
    record_id: int
    fields_checked: int
    fields_changed: int
    changed_keys: tuple[str, ...]
    # Revealed only now that QA has keyed every field (the form itself is blind), template order.
    comparison: tuple[FieldComparison, ...] = ()


@dataclass(frozen=True)
class VerifierQuality:
    verifier_id: int
    username: str
    records_checked: int
    fields_checked: int
    fields_changed: int

    @property
    def error_rate(self) -> float | None:
        """Fields QA changed / fields QA checked (None before any check)."""
        return self.fields_changed / self.fields_checked if self.fields_checked else None


def _approved_by(scope: Scope, verifier_id: int, since: datetime | None) -> Select[int]:
    already = select(QaCheck.record_id)
    query = (
        select(Record.id)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(queue_visible(scope), Record.status == RecordStatus.APPROVED,
               Record.approved_by_id == verifier_id, Record.id.not_in(already))
        .order_by(Record.id)
    )
    return query.where(Record.approved_at >= since) if since is not None else query


def draw_qa_sample(session: Session, user: User, verifier_id: int, percent: float, *,
                   since: datetime | None = None, seed: int | None = None) -> list[int]:
    """Draw `percent`% (rounded up, so at least one) of the verifier's approved, not yet sampled
    records in scope. Returns the new QA check ids."""
    scope = load_scope(session, user, SUPERVISORS)
    if not 0 < percent <= 100:
        raise InvalidActionError(f"QA percentage {percent} outside (0, 100]", "Tỷ lệ kiểm tra phải từ 0 đến 100%.")
    user_in_scope(session, scope, verifier_id)
    pool = list(session.scalars(_approved_by(scope, verifier_id, since)))
    chosen = sorted(random.Random(seed).sample(pool, math.ceil(len(pool) * percent / 100))) if pool else []
    checks = [QaCheck(record_id=rid, verifier_id=verifier_id, sampled_by_id=scope.user.id) for rid in chosen]
    session.add_all(checks)
    session.flush()
    record_event(session, actor=scope.user, entity_type="qa_sample", entity_id=verifier_id, action="qa_sample",
                 new={"verifier_id": verifier_id, "percent": percent, "record_ids": chosen})
    return [check.id for check in checks]


def qa_queue(session: Session, user: User, limit: int = 200) -> list[QaItem]:
    """Pending QA checks in scope that the acting supervisor may do (never their own approvals)."""
    scope = load_scope(session, user, SUPERVISORS)
    rows = session.execute(
        select(QaCheck, Record)
        .join(Record, QaCheck.record_id == Record.id)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(queue_visible(scope), QaCheck.checked_at.is_(None), QaCheck.verifier_id != scope.user.id)
        .order_by(QaCheck.sampled_at, QaCheck.id)
        .limit(limit)
        .options(joinedload(Record.book).joinedload(Book.unit), joinedload(Record.page))
    ).all()
    return [QaItem(check.id, summarize(record), check.verifier_id, check.sampled_at) for check, record in rows]


def _verifier_value(field: FieldValue) -> str:
    if field.status != FieldStatus.PROPOSED and field.final_value is not None:
        return field.final_value
    return field.proposed_value


def submit_qa(session: Session, user: User, qa_id: int, values: dict[str, str], *,
              apply_corrections: bool = True, moment: datetime | None = None) -> QaResult:
    """Record the blind re-check: `values` is what QA read (missing keys = the proposal, as shown).
    A field counts as changed when QA's value differs from the verifier's final value; with
    `apply_corrections` those fields take QA's value on the record (audited)."""
    scope = load_scope(session, user, SUPERVISORS)
    check = session.get(QaCheck, qa_id)
    if check is None:
        raise NotFoundError(f"No QA check {qa_id}", "Không tìm thấy phiếu kiểm tra.")
    record = record_in_scope(session, scope, check.record_id)
    if check.checked_at is not None:
        raise InvalidActionError(f"QA check {qa_id} is already done", "Bản ghi này đã được kiểm tra.")
    if check.verifier_id == scope.user.id:
        raise InvalidActionError("A verifier cannot QA their own approvals",
                                 "Không được tự kiểm tra bản ghi do chính mình duyệt.")
    unknown = sorted(set(values) - {f.key for f in record.fields})
    if unknown:
        raise InvalidActionError(f"Record {record.id} has no fields {unknown}", "Trường dữ liệu không hợp lệ.")
    moment = moment or now_utc()
    changed: list[str] = []
    comparison: list[FieldComparison] = []
    for field in record.fields:
        qa_value = clean_text(values.get(field.key, field.proposed_value))
        verifier_value = clean_text(_verifier_value(field))  # read before a correction replaces it
        comparison.append(FieldComparison(field.key, qa_value, verifier_value))
        if qa_value != verifier_value:
            changed.append(field.key)
            if apply_corrections:
                apply_field_value(session, scope.user, field, qa_value, moment)
    check.reviewer_id = scope.user.id
    check.checked_at = moment
    check.fields_checked = len(record.fields)
    check.fields_changed = len(changed)
    check.changed_keys = changed
    record_event(session, actor=scope.user, entity_type="qa_check", entity_id=check.id, action="qa_result",
                 new={"record_id": record.id, "verifier_id": check.verifier_id, "fields_checked": len(record.fields),
                      "changed_keys": changed, "applied": apply_corrections})
    if changed and apply_corrections:
        flag_modified(record, "status")  # bump the version: open views of this record must reload
    flush_or_conflict(session, record.id)
    return QaResult(check.id, record.id, len(record.fields), len(changed), tuple(changed), tuple(comparison))


def verifier_error_rates(session: Session, user: User) -> list[VerifierQuality]:
    """Per verifier with QA results in scope: records and fields checked, fields changed, error rate."""
    scope = load_scope(session, user, SUPERVISORS)
    rows = session.execute(
        select(QaCheck.verifier_id, User.username, func.count(), func.sum(QaCheck.fields_checked),
               func.sum(QaCheck.fields_changed))
        .join(User, User.id == QaCheck.verifier_id)
        .join(Record, QaCheck.record_id == Record.id)
        .join(Book, Record.book_id == Book.id)
        .where(scope.unit_filter(Book.unit_id), QaCheck.checked_at.is_not(None))
        .group_by(QaCheck.verifier_id, User.username)
        .order_by(User.username)
    ).all()
    return [
        VerifierQuality(verifier_id, name, int(records), int(checked or 0), int(wrong or 0))
        for verifier_id, name, records, checked, wrong in rows
    ]
