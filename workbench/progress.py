"""Progress numbers: the official's strip and the supervisors' dashboard (per unit / book type / user).

"Today" is the Vietnamese calendar day (UTC+7, no daylight saving), as in the daily report.
Records on soft-deleted pages never count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models import AuditEvent, Book, FieldValue, Page, Record, RecordStatus, Unit, User
from workbench.book_types import get_book_type
from workbench.queue import now_utc
from workbench.scope import EVERYONE, SUPERVISORS, Scope, load_scope

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
class Dashboard:
    by_unit: list[StatusCounts]
    by_book_type: list[StatusCounts]
    by_user: list[UserActivity]
    approved_per_day: list[tuple[date, int]]  # the last `days` Vietnamese calendar days, oldest first


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
    )


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
