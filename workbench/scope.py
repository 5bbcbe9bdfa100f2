"""Who may touch what: roles and unit scope, enforced here for every service function.

A user's scope is the units assigned to them (User.units) plus every descendant unit
(a district official covers its communes); admins see everything. Service functions call
`require_role` and one of the `*_in_scope` loaders before reading or changing anything, so a
page that forgot to hide a button still cannot leak or change another unit's data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from models import Book, Page, Record, Role, Unit, User, user_units
from workbench.errors import NotFoundError, ScopeError

REVIEWERS = (Role.OFFICIAL, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
CONTRACTORS = (Role.CONTRACTOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)
EVERYONE = tuple(Role)

_OUT_OF_SCOPE_VI = "Bạn không có quyền truy cập dữ liệu của đơn vị này."
# The account the command line and batch jobs act as. "@" cannot start a login name
# (workbench.accounts.auth refuses it), so no person can take this name; its hash can never verify.
SYSTEM_USERNAME = "@system"
UNUSABLE_PASSWORD_HASH = "!"


@dataclass(frozen=True)
class Scope:
    """The acting user as re-read from the database, with the unit ids they cover."""

    user: User  # attached to the current session
    unit_ids: frozenset[int] | None  # None = every unit (admin)

    @property
    def is_admin(self) -> bool:
        return self.unit_ids is None

    def covers(self, unit_id: int) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    def unit_filter(self, column: ColumnElement[int] | QueryableAttribute[int]) -> ColumnElement[bool]:
        """A WHERE clause restricting `column` (a unit id column) to this scope."""
        if self.unit_ids is None:
            return true()
        return column.in_(sorted(self.unit_ids))


def descendant_unit_ids(session: Session, roots: Iterable[int]) -> frozenset[int]:
    """The roots and every unit below them (the unit table is small: load it once)."""
    children: dict[int, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(unit_id)
    found: set[int] = set()
    stack = list(roots)
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, []))
    return frozenset(found)


# The units each user covers, read once per block of `units_read_once` (one page run of the app): a
# verification run checks the scope some ten times, each a user_units query and a walk of the unit table.
_UNITS_THIS_RUN: ContextVar[dict[int, frozenset[int]] | None] = ContextVar("units_this_run", default=None)


@contextmanager
def units_read_once() -> Iterator[None]:
    """Within the block (the app wraps each page run in it), a user's units are read from the database
    once. The user row itself (activity, role) is still re-read by every `load_scope`."""
    token = _UNITS_THIS_RUN.set({})
    try:
        yield
    finally:
        _UNITS_THIS_RUN.reset(token)


def _units_of(session: Session, user_id: int) -> frozenset[int]:
    known = _UNITS_THIS_RUN.get()
    if known is not None and user_id in known:
        return known[user_id]
    assigned = session.scalars(select(user_units.c.unit_id).where(user_units.c.user_id == user_id))
    units = descendant_unit_ids(session, assigned)
    if known is not None:
        known[user_id] = units
    return units


def load_scope(session: Session, user: User, roles: Iterable[str] = EVERYONE) -> Scope:
    """Re-read the user (the UI may hold a stale copy), check role and activity, compute the units."""
    acting = session.get(User, user.id)
    if acting is None or not acting.active:
        raise ScopeError(f"User {user.id} is missing or deactivated", "Tài khoản không còn hoạt động.")
    allowed = {str(r) for r in roles}
    if acting.role not in allowed:
        raise ScopeError(
            f"Role '{acting.role}' may not do this (needs one of {sorted(allowed)})",
            "Vai trò của bạn không được phép thực hiện thao tác này.",
        )
    if acting.role == Role.ADMIN:
        return Scope(acting, None)
    return Scope(acting, _units_of(session, acting.id))


def system_user(session: Session) -> User:
    """The acting user of commands run without a login (CLI, demo seeding): an admin that cannot log in.

    Services never treat "no user" as "everyone": the command line passes this account, so its
    actions go through the same checks and carry a named actor in the audit trail.
    """
    found = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    if found is not None:
        return found
    try:
        with session.begin_nested():  # two commands starting at once: the loser re-reads the winner's row
            created = User(username=SYSTEM_USERNAME, password_hash=UNUSABLE_PASSWORD_HASH, role=Role.ADMIN,
                           full_name="Hệ thống (dòng lệnh)")
            session.add(created)
        return created
    except IntegrityError:
        return session.scalars(select(User).where(User.username == SYSTEM_USERNAME)).one()


def _require_unit(scope: Scope, unit_id: int, what: str) -> None:
    if not scope.covers(unit_id):
        raise ScopeError(f"User #{scope.user.id} may not access {what} (unit {unit_id})", _OUT_OF_SCOPE_VI)


def unit_in_scope(session: Session, scope: Scope, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFoundError(f"No unit {unit_id}", "Không tìm thấy đơn vị.")
    _require_unit(scope, unit.id, f"unit {unit_id}")
    return unit


def book_in_scope(session: Session, scope: Scope, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise NotFoundError(f"No book {book_id}", "Không tìm thấy sổ.")
    _require_unit(scope, book.unit_id, f"book {book_id}")
    return book


def page_in_scope(session: Session, scope: Scope, page_id: int) -> Page:
    page = session.get(Page, page_id)
    if page is None:
        raise NotFoundError(f"No page {page_id}", "Không tìm thấy trang.")
    _require_unit(scope, page.book.unit_id, f"page {page_id}")
    return page


def record_in_scope(session: Session, scope: Scope, record_id: int, *, fresh: bool = True) -> Record:
    """The record, re-read from the database when `fresh` (its version may have moved under us)."""
    record = session.get(Record, record_id, populate_existing=fresh)
    if record is None:
        raise NotFoundError(f"No record {record_id}", "Không tìm thấy bản ghi.")
    _require_unit(scope, record.book.unit_id, f"record {record_id}")
    return record


def user_in_scope(session: Session, scope: Scope, user_id: int) -> User:
    """Another user whom the acting user may manage: admins any; supervisors those sharing a unit."""
    other = session.get(User, user_id)
    if other is None:
        raise NotFoundError(f"No user {user_id}", "Không tìm thấy người dùng.")
    if scope.unit_ids is None:
        return other
    their_units = set(session.scalars(select(user_units.c.unit_id).where(user_units.c.user_id == other.id)))
    if not their_units or not their_units <= scope.unit_ids:
        raise ScopeError(f"User #{user_id} is outside the units of user #{scope.user.id}", _OUT_OF_SCOPE_VI)
    return other
