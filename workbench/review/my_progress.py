"""Tiến độ của tôi, in detail: the acting official's own approvals per hour today and the fields they
decided per field type (confirmed as read vs corrected), issue #15 item 7.

Only the acting user's own work in their current units counts: records they approved (the same rule
as workbench.review.progress.my_progress's "approved today by me", so the hours add up to that counter) and
fields whose last decision is theirs. Hours and days are Vietnamese time (UTC+7), as in the report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Book, FieldStatus, FieldValue, Page, Record, RecordStatus, User
from ocr.types import FIELD_TYPES
from workbench.book_types import BookTypeError, get_book_type
from workbench.review.progress import VIETNAM_TZ, local_day_start
from workbench.review.queue import as_utc, now_utc
from workbench.scope import REVIEWERS, Scope, load_scope

# The hours an office day always shows (07:00-17:59), widened to any hour with work in it.
OFFICE_HOURS = (7, 17)
OTHER_FIELD_TYPE = "free_text"  # a key no longer in its template (template edited): counted as free text


@dataclass(frozen=True)
class FieldTypeWork:
    """Fields of one type the official decided in the period."""

    field_type: str  # one of ocr.types.FIELD_TYPES
    confirmed: int  # kept the machine's reading
    corrected: int  # typed another value

    @property
    def total(self) -> int:
        return self.confirmed + self.corrected

    @property
    def corrected_percent(self) -> int:
        """Share corrected, rounded to a whole percent (0 when nothing was decided)."""
        return round(100 * self.corrected / self.total) if self.total else 0


@dataclass(frozen=True)
class MyDay:
    """The official's own day: approvals per Vietnamese hour and fields decided per field type."""

    day: date  # the Vietnamese calendar day
    approved_per_hour: list[tuple[int, int]]  # (hour 0-23, approvals), the office hours and every active hour
    by_field_type: list[FieldTypeWork]  # field types with at least one decision, in FIELD_TYPES order
    since: date  # first day the field-type counts cover (== day for "today")

    @property
    def approved(self) -> int:
        return sum(n for _, n in self.approved_per_hour)

    @property
    def fields_confirmed(self) -> int:
        return sum(w.confirmed for w in self.by_field_type)

    @property
    def fields_corrected(self) -> int:
        return sum(w.corrected for w in self.by_field_type)


def my_day(session: Session, user: User, moment: datetime | None = None, field_days: int = 1) -> MyDay:
    """The acting user's approvals per hour on moment's Vietnamese day, and their field decisions per
    field type over the last `field_days` Vietnamese days (1 = today only)."""
    scope = load_scope(session, user, REVIEWERS)
    moment = moment or now_utc()
    day_start = local_day_start(moment)
    fields_start = day_start - timedelta(days=max(field_days, 1) - 1)
    return MyDay(
        day=moment.astimezone(VIETNAM_TZ).date(),
        approved_per_hour=_approved_per_hour(session, scope, day_start),
        by_field_type=_field_work(session, scope, fields_start, day_start + timedelta(days=1)),
        since=fields_start.astimezone(VIETNAM_TZ).date(),
    )


def _mine(scope: Scope) -> tuple[ColumnElement[bool], ...]:
    # Live records of my current units (a page soft-deleted later no longer counts, as in the strip).
    return (scope.unit_filter(Book.unit_id), Page.deleted.is_(False))


def _approved_per_hour(session: Session, scope: Scope, day_start: datetime) -> list[tuple[int, int]]:
    moments = session.scalars(
        select(Record.approved_at)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(*_mine(scope), Record.status == RecordStatus.APPROVED, Record.approved_by_id == scope.user.id,
               Record.approved_at >= day_start, Record.approved_at < day_start + timedelta(days=1))
    )
    # At most a few hundred rows a day: bucketed here, the same way on SQLite and PostgreSQL.
    per_hour = Counter(as_utc(at).astimezone(VIETNAM_TZ).hour for at in moments if at is not None)
    first = min([OFFICE_HOURS[0], *per_hour])
    last = max([OFFICE_HOURS[1], *per_hour])
    return [(hour, per_hour.get(hour, 0)) for hour in range(first, last + 1)]


def _field_work(session: Session, scope: Scope, start: datetime, end: datetime) -> list[FieldTypeWork]:
    # The audit trail's `at` is indexed, field_values.edited_at is not: this user's field events since
    # the period began find the fields (an event is written in the same transaction as, so never
    # before, the edit it records), edited_at places each edit exactly, and each field counts once,
    # by its current decision, while that decision is still the user's own (a later change by
    # someone else takes it away).
    rows = session.execute(
        select(Book.book_type, FieldValue.key, FieldValue.status, func.count(func.distinct(FieldValue.id)))
        .select_from(AuditEvent)
        .join(FieldValue, (AuditEvent.entity_type == "field") & (AuditEvent.entity_id == FieldValue.id))
        .join(Record, FieldValue.record_id == Record.id)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(*_mine(scope), AuditEvent.at >= start, AuditEvent.user_id == scope.user.id,
               AuditEvent.action.in_(("confirm", "correct")), FieldValue.edited_by_id == scope.user.id,
               FieldValue.edited_at >= start, FieldValue.edited_at < end,
               FieldValue.status.in_((FieldStatus.CONFIRMED, FieldStatus.CORRECTED)))
        .group_by(Book.book_type, FieldValue.key, FieldValue.status)
    ).all()
    confirmed: Counter[str] = Counter()
    corrected: Counter[str] = Counter()
    for book_type, key, status, count in rows:
        target = corrected if status == FieldStatus.CORRECTED else confirmed
        target[_field_type(book_type, key)] += int(count)
    return [FieldTypeWork(kind, confirmed[kind], corrected[kind]) for kind in FIELD_TYPES
            if confirmed[kind] or corrected[kind]]


def _field_type(book_type: str, key: str) -> str:
    try:
        columns = get_book_type(book_type).columns
    except BookTypeError:
        return OTHER_FIELD_TYPE
    return next((c.field_type for c in columns if c.key == key), OTHER_FIELD_TYPE)

