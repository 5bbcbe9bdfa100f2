"""Progress numbers: the official's strip and the supervisors' dashboard (per unit / book type / user).

"Today" is the Vietnamese calendar day (UTC+7, no daylight saving), as in the daily report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from models import User

VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")
DONE_STATUSES = ("approved", "rejected")  # records no longer remaining


@dataclass(frozen=True)
class ProgressStrip:
    approved_today_by_me: int
    unit_remaining: int  # open + flagged records in my units (live pages)
    unit_total: int
    unit_approved_today: int


@dataclass
class StatusCounts:
    """Record counts by status for one group (a unit, a book type or a user)."""

    key: str  # unit id / book-type key / user id, as text
    label: str  # unit name / book-type short label / username
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def remaining(self) -> int:
        return sum(n for status, n in self.by_status.items() if status not in DONE_STATUSES)


@dataclass(frozen=True)
class Dashboard:
    by_unit: list[StatusCounts]
    by_book_type: list[StatusCounts]
    by_user: list[StatusCounts]  # approved / flagged / rejected records, by the user who did it
    approved_per_day: list[tuple[date, int]]  # last `days` Vietnamese calendar days, oldest first


def local_day_start(moment: datetime) -> datetime:
    """The start of moment's Vietnamese calendar day, in UTC."""
    local = moment.astimezone(VIETNAM_TZ)
    return datetime.combine(local.date(), time(0), VIETNAM_TZ).astimezone(UTC)


def my_progress(session: Session, user: User, moment: datetime | None = None) -> ProgressStrip:
    raise NotImplementedError


def progress_dashboard(session: Session, user: User, days: int = 14, moment: datetime | None = None) -> Dashboard:
    """Supervisors/admins: counts in their scope (deleted pages excluded)."""
    raise NotImplementedError
