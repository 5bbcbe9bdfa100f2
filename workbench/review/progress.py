"""Progress numbers: the official's strip and the supervisors' dashboard (per unit / book type / user).

"Today" is the Vietnamese calendar day (UTC+7, no daylight saving), as in the daily report.
Records on soft-deleted pages never count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, String, cast, func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Book, FieldValue, Page, Record, RecordStatus, Unit, User
from ocr.page_warnings import PageWarning, decode_warnings
from workbench.book_types import get_book_type
from workbench.intake.registration_sequence import GAP, REPEAT, SequenceFinding, sequence_finding
from workbench.review.queue import now_utc
from workbench.review.record_view import book_label
from workbench.scope import EVERYONE, SUPERVISORS, Scope, book_in_scope, load_scope

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
DONE_STATUSES = (RecordStatus.APPROVED, RecordStatus.REJECTED)  # records no longer remaining


@dataclass(frozen=True)
class ProgressStrip:
    approved_today_by_me: int
    unit_remaining: int  # records not yet approved/rejected in my units
    unit_total: int
    unit_approved_today: int  # by anyone, in my units


@dataclass
class StatusCounts:
    """Record counts by status for one group (a unit or a book type)."""

    key: str  # unit id / book-type key, as text
    label: str  # unit name / book-type short label
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def approved(self) -> int:
        return self.by_status.get(RecordStatus.APPROVED, 0)

    @property
    def remaining(self) -> int:
        return sum(n for status, n in self.by_status.items() if status not in DONE_STATUSES)


@dataclass(frozen=True)
class UserActivity:
    """What one user did to records in the viewer's scope (from the audit trail)."""

    user_id: int
    username: str
    approved: int
    approved_today: int
    flagged: int
    skipped: int
    fields_corrected: int


@dataclass(frozen=True)
class BookSequenceCounts:
    """One book's registration-number alarms (page warnings registration_no_gap / _repeat)."""

    book_id: int
    label: str  # e.g. "Khai sinh 2003 quyển 1"
    unit_name: str
    pages_with_warnings: int
    gaps: int
    repeats: int
    missing_numbers: int  # registrations the gaps say were lost
    warnings: tuple[tuple[int, PageWarning], ...]  # (page index, warning), for workbench.ui.labels


@dataclass(frozen=True)
class Dashboard:
    by_unit: list[StatusCounts]
    by_book_type: list[StatusCounts]
    by_user: list[UserActivity]
    approved_per_day: list[tuple[date, int]]  # the last `days` Vietnamese calendar days, oldest first
    sequence_by_book: list[BookSequenceCounts]  # only books with a gap or a repeat


def local_day_start(moment: datetime) -> datetime:
    """The start of moment's Vietnamese calendar day, in UTC."""
    local = moment.astimezone(VIETNAM_TZ)
    return datetime.combine(local.date(), time(0), VIETNAM_TZ).astimezone(UTC)


def _live_records(scope: Scope, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Record)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(scope.unit_filter(Book.unit_id), Page.deleted.is_(False))
    )


def my_progress(session: Session, user: User, moment: datetime | None = None) -> ProgressStrip:
    """The official's strip: my approvals today, my units' remaining/total/approved today."""
    scope = load_scope(session, user, EVERYONE)
    day_start = local_day_start(moment or now_utc())
    approved_today = (Record.status == RecordStatus.APPROVED) & (Record.approved_at >= day_start)
    mine = session.scalar(_live_records(scope, func.count()).where(approved_today,
                                                                    Record.approved_by_id == scope.user.id))
    total, remaining, unit_today = session.execute(
        _live_records(
            scope,
            func.count(),
            func.count().filter(Record.status.not_in(DONE_STATUSES)),
            func.count().filter(approved_today),
        )
    ).one()
    return ProgressStrip(int(mine or 0), int(remaining), int(total), int(unit_today))


def progress_dashboard(session: Session, user: User, days: int = 14, moment: datetime | None = None) -> Dashboard:
    """Supervisors/admins: record counts in their scope per unit, book type and user, approvals per day."""
    scope = load_scope(session, user, SUPERVISORS)
    moment = moment or now_utc()
    by_unit: dict[int, StatusCounts] = {}
    unit_names = {unit_id: name for unit_id, name in session.execute(select(Unit.id, Unit.name))}
    for unit_id, status, count in session.execute(
        _live_records(scope, Book.unit_id, Record.status, func.count()).group_by(Book.unit_id, Record.status)
    ):
        group = by_unit.setdefault(unit_id, StatusCounts(str(unit_id), unit_names[unit_id]))
        group.by_status[status] = count
    by_type: dict[str, StatusCounts] = {}
    for book_type, status, count in session.execute(
        _live_records(scope, Book.book_type, Record.status, func.count()).group_by(Book.book_type, Record.status)
    ):
        group = by_type.setdefault(book_type, StatusCounts(book_type, get_book_type(book_type).short_label))
        group.by_status[status] = count
    first_day = local_day_start(moment) - timedelta(days=days - 1)
    per_day = Counter(
        approved_at.replace(tzinfo=approved_at.tzinfo or UTC).astimezone(VIETNAM_TZ).date()
        for approved_at in session.scalars(
            _live_records(scope, Record.approved_at).where(Record.status == RecordStatus.APPROVED,
                                                           Record.approved_at >= first_day)
        )
    )
    first_local = first_day.astimezone(VIETNAM_TZ).date()
    return Dashboard(
        by_unit=sorted(by_unit.values(), key=lambda g: g.label),
        by_book_type=sorted(by_type.values(), key=lambda g: get_book_type(g.key).priority),
        by_user=_user_activity(session, scope, local_day_start(moment)),
        approved_per_day=[(first_local + timedelta(days=n), per_day.get(first_local + timedelta(days=n), 0))
                          for n in range(days)],
        sequence_by_book=_sequence_counts(session, scope, None),
    )


def book_sequence_counts(session: Session, user: User, book_id: int) -> BookSequenceCounts:
    """One book's registration-number gaps and repeats (all zero for a clean book)."""
    scope = load_scope(session, user, EVERYONE)
    book = book_in_scope(session, scope, book_id)
    found = _sequence_counts(session, scope, book.id)
    return found[0] if found else BookSequenceCounts(book.id, book_label(book), book.unit.name, 0, 0, 0, 0, ())


def _sequence_counts(session: Session, scope: Scope, book_id: int | None) -> list[BookSequenceCounts]:
    # Only pages whose stored warnings mention a sequence code are read (a cheap text filter on the
    # JSON column, portable between SQLite and PostgreSQL), not every page in scope.
    query = (
        select(Page.book_id, Page.page_index, Page.warnings)
        .join(Book, Page.book_id == Book.id)
        .where(scope.unit_filter(Book.unit_id), Page.deleted.is_(False),
               cast(Page.warnings, String).like("%registration_no_%"))
        .order_by(Page.book_id, Page.page_index)
    )
    if book_id is not None:
        query = query.where(Page.book_id == book_id)
    by_book: dict[int, list[tuple[int, SequenceFinding, PageWarning]]] = {}
    for page_book_id, page_index, stored in session.execute(query):
        for warning in decode_warnings(stored):
            finding = sequence_finding(warning)
            if finding is not None:
                by_book.setdefault(page_book_id, []).append((page_index, finding, warning))
    books = {b.id: b for b in session.scalars(select(Book).where(Book.id.in_(list(by_book))))}
    counts = [
        BookSequenceCounts(
            book_id=bid, label=book_label(books[bid]), unit_name=books[bid].unit.name,
            pages_with_warnings=len({page for page, _, _ in found}),
            gaps=sum(f.code == GAP for _, f, _ in found),
            repeats=sum(f.code == REPEAT for _, f, _ in found),
            missing_numbers=sum(len(f.numbers) for _, f, _ in found if f.code == GAP),
            warnings=tuple((page, warning) for page, _, warning in found),
        )
        for bid, found in by_book.items()
    ]
    return sorted(counts, key=lambda c: (c.unit_name, c.label))


def _user_activity(session: Session, scope: Scope, day_start: datetime) -> list[UserActivity]:
    record_actions = session.execute(
        _live_records(scope, AuditEvent.user_id, AuditEvent.action,
                      func.count(), func.count().filter(AuditEvent.at >= day_start))
        .join(AuditEvent, (AuditEvent.entity_type == "record") & (AuditEvent.entity_id == Record.id))
        .where(AuditEvent.user_id.is_not(None), AuditEvent.action.in_(("approve", "flag", "skip")))
        .group_by(AuditEvent.user_id, AuditEvent.action)
    ).all()
    corrections = session.execute(
        _live_records(scope, AuditEvent.user_id, func.count())
        .join(FieldValue, FieldValue.record_id == Record.id)
        .join(AuditEvent, (AuditEvent.entity_type == "field") & (AuditEvent.entity_id == FieldValue.id))
        .where(AuditEvent.action == "correct", AuditEvent.user_id.is_not(None))
        .group_by(AuditEvent.user_id)
    ).all()
    totals: dict[int, Counter[str]] = {}
    for user_id, action, count, today in record_actions:
        totals.setdefault(user_id, Counter())[action] += count
        if action == "approve":
            totals[user_id]["approve_today"] += today
    for user_id, count in corrections:
        totals.setdefault(user_id, Counter())["correct"] += count
    names = {user_id: name for user_id, name in
             session.execute(select(User.id, User.username).where(User.id.in_(list(totals))))}
    return sorted(
        (UserActivity(user_id, names[user_id], c["approve"], c["approve_today"], c["flag"], c["skip"], c["correct"])
         for user_id, c in totals.items()),
        key=lambda a: (-a.approved, a.username),
    )
