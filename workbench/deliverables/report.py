"""Progress report (Phụ lục 01), plan view and per-user productivity, computed from the database.

Days are Vietnam calendar days (UTC+7, no daylight saving): "approved on 2026-11-28" means
approved_at in [2026-11-27 17:00 UTC, 2026-11-28 17:00 UTC). A unit's row counts its own books
and every unit below it (xã rows roll up into their huyện, huyện into the tỉnh). Records on
soft-deleted pages never count; rejected rows are not registrations.

Every function takes the acting user: supervisors see and plan only their units (and those
below), admins everything (workbench.scope).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models import Book, Page, Record, RecordStatus, Unit, UnitPlan, User
from ocr.fields.text import fold_key_accentless
from workbench.audit import record_event
from workbench.errors import ServiceError
from workbench.scope import SUPERVISORS, Scope, load_scope, unit_in_scope

VIETNAM = timezone(timedelta(hours=7))
REPORT_BOOK_TYPES = ("khai_sinh", "ket_hon", "khai_tu", "nuoi_con_nuoi")
OTHER = "other"
TYPE_LABELS = {"khai_sinh": "Khai sinh", "ket_hon": "Kết hôn", "khai_tu": "Khai tử", "nuoi_con_nuoi": "Con nuôi",
               OTHER: "Khác", "total": "Tổng cộng"}
RATE_WINDOW_DAYS = 7
MEASURES = ("Tổng số", "Số liệu nhập trong ngày", "Tổng đã nhập", "Còn lại")


class ReportError(ServiceError):
    """The report cannot be built for these arguments."""


@dataclass(frozen=True)
class Counts:
    total: int = 0  # Tổng số: declared registrations (records found where undeclared)
    today: int = 0  # Số liệu nhập trong ngày: approved that day
    done: int = 0  # Tổng đã nhập: approved up to and including that day

    @property
    def remaining(self) -> int:  # Còn lại
        return max(self.total - self.done, 0)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.total + other.total, self.today + other.today, self.done + other.done)


@dataclass
class ReportRow:
    unit_id: int | None  # None for the grand total
    unit_name: str
    level: str
    depth: int
    by_type: dict[str, Counts] = field(default_factory=dict)

    @property
    def total(self) -> Counts:
        return sum(self.by_type.values(), Counts())


@dataclass
class ProgressReport:
    day: date
    book_types: tuple[str, ...]  # report columns, in form order
    rows: list[ReportRow]  # units in tree order (pre-order), then the grand total

    def labels(self) -> list[str]:
        return [TYPE_LABELS[t] for t in self.book_types]

    def as_table(self) -> list[dict[str, object]]:
        """Flat rows for a UI table: 'Đơn vị', then '<type> · <measure>' columns as on the form."""
        table: list[dict[str, object]] = []
        for row in self.rows:
            cells: dict[str, object] = {"Đơn vị": "    " * row.depth + row.unit_name}
            groups = [(TYPE_LABELS[t], row.by_type[t]) for t in self.book_types] + [(TYPE_LABELS["total"], row.total)]
            for label, counts in groups:
                for measure, value in zip(MEASURES, (counts.total, counts.today, counts.done, counts.remaining),
                                          strict=True):
                    cells[f"{label} · {measure}"] = value
            table.append(cells)
        return table


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Vietnam calendar day, in UTC."""
    start = datetime.combine(day, time(0), tzinfo=VIETNAM).astimezone(UTC)
    return start, start + timedelta(days=1)


def local_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return aware.astimezone(VIETNAM).date()


@dataclass
class _UnitTree:
    units: dict[int, Unit]
    children: dict[int | None, list[int]]

    @classmethod
    def load(cls, session: Session) -> _UnitTree:
        units = {u.id: u for u in session.scalars(select(Unit))}
        children: dict[int | None, list[int]] = defaultdict(list)
        for unit in units.values():
            children[unit.parent_id if unit.parent_id in units else None].append(unit.id)
        for ids in children.values():
            ids.sort(key=lambda i: (fold_key_accentless(units[i].name), units[i].name, i))  # Đ next to D
        return cls(units, children)

    def walk(self, roots: list[int], depth: int = 0) -> list[tuple[int, int]]:
        """(unit id, depth) in pre-order."""
        order = []
        for unit_id in roots:
            order.append((unit_id, depth))
            order.extend(self.walk(self.children.get(unit_id, []), depth + 1))
        return order

    def subtree(self, unit_id: int) -> set[int]:
        return {u for u, _ in self.walk([unit_id])}

    def roots(self, scope: Scope) -> list[int]:
        """The top units of the scope, in tree order (every root for an admin)."""
        if scope.unit_ids is None:
            return self.children.get(None, [])
        covered = scope.unit_ids
        return [u for u, _ in self.walk(self.children.get(None, []))
                if u in covered and self.units[u].parent_id not in covered]


def _report_roots(session: Session, scope: Scope, tree: _UnitTree, unit_id: int | None) -> list[int]:
    """`unit_id` when the scope covers it (ScopeError otherwise), else the scope's top units."""
    if unit_id is None:
        return tree.roots(scope)
    return [unit_in_scope(session, scope, unit_id).id]


def resolve_unit(session: Session, user: User, unit: str | None) -> int | None:
    """A unit in the user's scope given by id or exact name (CLI --unit)."""
    if unit is None:
        return None
    scope = load_scope(session, user, SUPERVISORS)
    if unit.isdigit():
        return unit_in_scope(session, scope, int(unit)).id
    found = session.scalars(select(Unit.id).where(Unit.name == " ".join(unit.split()))).all()
    if len(found) != 1:
        raise ReportError(f"Unit '{unit}' matches {len(found)} units; give its id",
                          f"Đơn vị '{unit}' khớp {len(found)} đơn vị; hãy dùng mã số")
    return unit_in_scope(session, scope, found[0]).id


def _book_counts(session: Session, day: date) -> dict[int, Counts]:
    start, end = day_bounds(day)
    approved = Record.status == RecordStatus.APPROVED
    found = func.sum(case((Record.status != RecordStatus.REJECTED, 1), else_=0))
    today = func.sum(case((and_(approved, Record.approved_at >= start, Record.approved_at < end), 1), else_=0))
    done = func.sum(case((and_(approved, Record.approved_at < end), 1), else_=0))
    # NOT IN over the (few) deleted pages instead of a join to pages: the count then reads only the
    # covering index ix_records_report, with no per-record page lookup (1.46 M of them for a province).
    deleted_pages = select(Page.id).where(Page.deleted.is_(True))
    rows = session.execute(
        select(Record.book_id, found, today, done)
        .where(Record.page_id.not_in(deleted_pages)).group_by(Record.book_id)
    )
    per_book = {book_id: (int(f or 0), int(t or 0), int(d or 0)) for book_id, f, t, d in rows}
    counts = {}
    for book_id, declared in session.execute(select(Book.id, Book.declared_count)):
        found_n, today_n, done_n = per_book.get(book_id, (0, 0, 0))
        counts[book_id] = Counts(declared if declared is not None else found_n, today_n, done_n)
    return counts


def progress_report(session: Session, user: User, day: date, unit_id: int | None = None) -> ProgressReport:
    """The Phụ lục 01 table for `day`, for the user's units (or `unit_id` and the units below it)."""
    scope = load_scope(session, user, SUPERVISORS)
    tree = _UnitTree.load(session)
    roots = _report_roots(session, scope, tree, unit_id)
    counts = _book_counts(session, day)
    own: dict[int, dict[str, Counts]] = defaultdict(lambda: defaultdict(Counts))
    kinds = set()
    for book_id, unit_of_book, book_type in session.execute(select(Book.id, Book.unit_id, Book.book_type)):
        kind = book_type if book_type in REPORT_BOOK_TYPES else OTHER
        kinds.add(kind)
        own[unit_of_book][kind] += counts[book_id]
    book_types = REPORT_BOOK_TYPES + ((OTHER,) if OTHER in kinds else ())

    rolled: dict[int, dict[str, Counts]] = {}

    def roll(unit: int) -> dict[str, Counts]:
        if unit not in rolled:
            sums = {kind: own[unit][kind] for kind in book_types}
            for child in tree.children.get(unit, []):
                for kind, value in roll(child).items():
                    sums[kind] += value
            rolled[unit] = sums
        return rolled[unit]

    rows = [
        ReportRow(u, tree.units[u].name, tree.units[u].level, depth, dict(roll(u)))
        for u, depth in tree.walk(roots)
    ]
    grand = {kind: sum((roll(r)[kind] for r in roots), Counts()) for kind in book_types}
    rows.append(ReportRow(None, TYPE_LABELS["total"], "", 0, grand))
    return ProgressReport(day, book_types, rows)


@dataclass(frozen=True)
class PlanRow:
    unit_id: int
    unit_name: str
    computers: int
    quota_per_computer_per_day: int
    remaining: int
    rate_per_day: float  # approvals per day over the last RATE_WINDOW_DAYS days
    days_at_quota: int | None  # working days to finish at computers x quota
    days_at_current_rate: int | None  # days to finish at the recent pace; None when nothing moved

    @property
    def daily_capacity(self) -> int:
        return self.computers * self.quota_per_computer_per_day


def set_unit_plan(session: Session, user: User, unit_id: int, computers: int,
                  quota_per_computer_per_day: int) -> UnitPlan:
    """Record a unit's computers and daily quota; only for a unit in the user's scope."""
    scope = load_scope(session, user, SUPERVISORS)
    unit_in_scope(session, scope, unit_id)
    actor = scope.user
    if computers < 0 or quota_per_computer_per_day < 0:
        raise ReportError("Computers and quota must be zero or more", "Số máy và định mức không được âm")
    plan = session.scalar(select(UnitPlan).where(UnitPlan.unit_id == unit_id))
    old = None if plan is None else {"computers": plan.computers, "quota": plan.quota_per_computer_per_day}
    if plan is None:
        plan = UnitPlan(unit_id=unit_id)
        session.add(plan)
    plan.computers, plan.quota_per_computer_per_day = computers, quota_per_computer_per_day
    plan.updated_by_id = actor.id
    plan.updated_at = datetime.now(UTC)
    session.flush()
    record_event(session, actor=actor, entity_type="unit_plan", entity_id=plan.id, action="set", old=old,
                 new={"unit_id": unit_id, "computers": computers, "quota": quota_per_computer_per_day})
    return plan


def _approved_in_window(session: Session, books: list[int], day: date, days: int) -> int:
    if not books:
        return 0
    start, _ = day_bounds(day - timedelta(days=days - 1))
    _, end = day_bounds(day)
    return int(session.scalar(
        select(func.count()).select_from(Record).join(Page, Record.page_id == Page.id).where(
            Record.book_id.in_(books), Record.status == RecordStatus.APPROVED, Page.deleted.is_(False),
            Record.approved_at >= start, Record.approved_at < end,
        )
    ) or 0)


def plan_view(session: Session, user: User, day: date, unit_id: int | None = None) -> list[PlanRow]:
    """Each planned unit in the user's scope with its remaining work and forecasts."""
    scope = load_scope(session, user, SUPERVISORS)
    tree = _UnitTree.load(session)
    roots = _report_roots(session, scope, tree, unit_id)
    report = progress_report(session, user, day, unit_id)
    remaining = {row.unit_id: row.total.remaining for row in report.rows if row.unit_id is not None}
    plans = {p.unit_id: p for p in session.scalars(select(UnitPlan))}
    books_by_unit: dict[int, list[int]] = defaultdict(list)
    for book_id, unit_of_book in session.execute(select(Book.id, Book.unit_id)):
        books_by_unit[unit_of_book].append(book_id)
    rows = []
    for unit, _depth in tree.walk(roots):
        plan = plans.get(unit)
        if plan is None:
            continue
        books = [b for u in tree.subtree(unit) for b in books_by_unit.get(u, [])]
        rate = _approved_in_window(session, books, day, RATE_WINDOW_DAYS) / RATE_WINDOW_DAYS
        left = remaining.get(unit, 0)
        capacity = plan.computers * plan.quota_per_computer_per_day
        rows.append(PlanRow(
            unit_id=unit, unit_name=tree.units[unit].name, computers=plan.computers,
            quota_per_computer_per_day=plan.quota_per_computer_per_day, remaining=left, rate_per_day=rate,
            days_at_quota=math.ceil(left / capacity) if capacity else None,
            days_at_current_rate=math.ceil(left / rate) if rate else None,
        ))
    return rows


@dataclass(frozen=True)
class UserDay:
    user_id: int
    username: str
    full_name: str
    day: date
    approved: int


def user_productivity(session: Session, user: User, start: date, end: date,
                      unit_id: int | None = None) -> list[UserDay]:
    """Records approved per user per Vietnam day, start..end inclusive, in the user's units."""
    scope = load_scope(session, user, SUPERVISORS)
    if end < start:
        raise ReportError("The period ends before it starts", "Khoảng thời gian không hợp lệ")
    low, _ = day_bounds(start)
    _, high = day_bounds(end)
    query = (
        select(Record.approved_by_id, Record.approved_at)
        .join(Page, Record.page_id == Page.id)
        .where(Record.status == RecordStatus.APPROVED, Record.approved_by_id.is_not(None), Page.deleted.is_(False),
               Record.approved_at >= low, Record.approved_at < high)
    )
    if unit_id is not None or not scope.is_admin:
        tree = _UnitTree.load(session)
        units = {u for root in _report_roots(session, scope, tree, unit_id) for u in tree.subtree(root)}
        query = query.join(Book, Record.book_id == Book.id).where(Book.unit_id.in_(units))
    tally: dict[tuple[int, date], int] = defaultdict(int)
    for user_id, approved_at in session.execute(query):
        if user_id is not None and approved_at is not None:  # guaranteed by the WHERE clause
            tally[(user_id, local_day(approved_at))] += 1
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_({k[0] for k in tally})))}
    return [
        UserDay(user_id, users[user_id].username, users[user_id].full_name, day, n)
        for (user_id, day), n in sorted(tally.items(), key=lambda item: (item[0][1], users[item[0][0]].username))
    ]
