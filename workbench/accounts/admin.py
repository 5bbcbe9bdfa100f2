"""Admin work: users (create, roles, passwords, lock-outs, deactivate, set units), units, book types.
Every change is audited.

Who manages whom: an admin with no units assigned is a system admin and manages every account; an
admin assigned to units (a district's or a commune's admin) manages only accounts whose units all
lie within its own units and their descendants, and gives out only those units. (For reading the
registry data every admin still covers every unit: workbench.scope.load_scope.) Service accounts
("@system") are nobody's to manage: a password set on one would make it a login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Role, Unit, UnitLevel, User, user_units
from workbench.accounts.auth import AuthError, check_new_password, create_user, hash_password
from workbench.audit import record_event
from workbench.book_types import all_book_types
from workbench.books import unit_lineage
from workbench.errors import InvalidActionError, NotFoundError, ScopeError
from workbench.scope import ADMINS, EVERYONE, descendant_unit_ids, load_scope


@dataclass(frozen=True)
class UserSummary:
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    unit_ids: tuple[int, ...]
    unit_names: tuple[str, ...]
    locked_until: datetime | None = None  # UTC; set only while a lock-out is still running
    must_change_password: bool = False


@dataclass(frozen=True)
class UserManagement:
    """The acting admin and the units whose accounts it manages (None: every account)."""

    acting: User
    unit_ids: frozenset[int] | None

    def covers_units(self, unit_ids: set[int]) -> bool:
        return self.unit_ids is None or (bool(unit_ids) and unit_ids <= self.unit_ids)


@dataclass(frozen=True)
class UnitSummary:
    id: int
    name: str
    code: str | None
    level: str
    parent_id: int | None
    path: str  # "Tỉnh X / Huyện Y / Xã Z"


@dataclass(frozen=True)
class BookTypeSummary:
    key: str
    label: str
    short_label: str
    priority: int
    columns: tuple[tuple[str, str, str], ...]  # (key, label, field type)


def user_summary(user: User) -> UserSummary:
    units = sorted(user.units, key=lambda u: u.name)
    locked = _aware(user.locked_until)
    running_lock = locked if locked is not None and locked > datetime.now(UTC) else None
    return UserSummary(user.id, user.username, user.full_name, user.role, user.active,
                       tuple(u.id for u in units), tuple(u.name for u in units), running_lock,
                       bool(user.must_change_password))


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def user_management(session: Session, user: User) -> UserManagement:
    """Check that `user` is an active admin and work out whose accounts it manages."""
    scope = load_scope(session, user, ADMINS)
    own_units = set(session.scalars(select(user_units.c.unit_id).where(user_units.c.user_id == scope.user.id)))
    if not own_units:
        return UserManagement(scope.user, None)
    return UserManagement(scope.user, descendant_unit_ids(session, own_units))


def list_users(session: Session, user: User) -> list[UserSummary]:
    """The accounts the admin manages (service accounts are not listed: nobody manages them)."""
    manager = user_management(session, user)
    listed = session.scalars(select(User).where(~User.username.startswith("@")).order_by(User.username))
    return [user_summary(u) for u in listed if manager.covers_units({unit.id for unit in u.units})]


def assignable_units(session: Session, user: User) -> list[UnitSummary]:
    """The units the admin may give to accounts: all for a system admin, its own subtree otherwise."""
    manager = user_management(session, user)
    return [u for u in list_units(session, user) if manager.unit_ids is None or u.id in manager.unit_ids]


def _units(session: Session, unit_ids: list[int]) -> list[Unit]:
    units = [session.get(Unit, unit_id) for unit_id in unit_ids]
    missing = [unit_id for unit_id, unit in zip(unit_ids, units, strict=True) if unit is None]
    if missing:
        raise NotFoundError(f"No units {missing}", "Không tìm thấy đơn vị.")
    return [u for u in units if u is not None]


def _units_to_give(session: Session, manager: UserManagement, unit_ids: list[int]) -> list[Unit]:
    """The units, if this admin may give them out (a unit admin: some, all inside its own units)."""
    units = _units(session, unit_ids)
    if not manager.covers_units({u.id for u in units}):
        raise ScopeError(f"User #{manager.acting.id} may not give units {sorted(unit_ids)}",
                         "Bạn chỉ được giao các đơn vị mình phụ trách.")
    return units


def create_user_account(session: Session, user: User, *, username: str, password: str, role: str,
                        unit_ids: list[int], full_name: str = "") -> int:
    """Create a user (argon2 hash, audited via workbench.accounts.auth)."""
    manager = user_management(session, user)
    units = _units_to_give(session, manager, unit_ids)
    try:
        created = create_user(session, username, password, role, full_name=full_name, actor=manager.acting)
    except AuthError as exc:  # one error family for the pages: ServiceError with message_vi
        raise InvalidActionError(str(exc), exc.message_vi) from None
    created.units = units
    session.flush()
    record_event(session, actor=manager.acting, entity_type="user", entity_id=created.id, action="set_units",
                 old=[], new=[u.id for u in units])
    return created.id


def find_user_id(session: Session, user: User, username: str) -> int:
    """The id of an account this admin manages, by its login name (the command line names users)."""
    manager = user_management(session, user)
    found = session.scalar(select(User).where(User.username == username.strip()))
    if found is None:
        raise NotFoundError("No user with that name", "Không tìm thấy người dùng.")
    return _managed_user(session, manager, found.id).id


def _managed_user(session: Session, manager: UserManagement, user_id: int) -> User:
    other = session.get(User, user_id)
    if other is None:
        raise NotFoundError(f"No user {user_id}", "Không tìm thấy người dùng.")
    if other.username.startswith("@"):
        raise InvalidActionError(f"User #{user_id} is a service account", "Không thể sửa tài khoản hệ thống.")
    if not manager.covers_units({u.id for u in other.units}):
        raise ScopeError(f"User #{user_id} is outside the units of admin #{manager.acting.id}",
                         "Người dùng này không thuộc đơn vị bạn quản lý.")
    return other


def _active_admins_after(session: Session, changed: User, role: str, active: bool) -> int:
    """Active admins who can log in, once `changed` has `role` and `active` (service accounts cannot)."""
    others = session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != changed.id, ~User.username.startswith("@")))
    return int(others or 0) + (1 if role == Role.ADMIN and active else 0)


def _keep_an_admin(session: Session, manager: UserManagement, other: User, role: str, active: bool) -> None:
    if other.id == manager.acting.id and not active:
        raise InvalidActionError("An admin cannot deactivate themselves", "Không thể tự khoá tài khoản của mình.")
    if _active_admins_after(session, other, role, active) == 0:
        raise InvalidActionError("This would leave no active admin",
                                 "Không thể thực hiện: hệ thống sẽ không còn quản trị viên nào hoạt động.")


def set_active(session: Session, user: User, user_id: int, active: bool) -> None:
    """Deactivate (or reactivate) a user; a deactivated user is refused by every service at once."""
    manager = user_management(session, user)
    other = _managed_user(session, manager, user_id)
    _keep_an_admin(session, manager, other, other.role, active)
    if other.active != active:
        record_event(session, actor=manager.acting, entity_type="user", entity_id=other.id,
                     action="activate" if active else "deactivate", old=other.active, new=active)
        other.active = active


def set_role(session: Session, user: User, user_id: int, role: str) -> None:
    """Change a user's role; the last active admin cannot be demoted (nobody could manage users)."""
    manager = user_management(session, user)
    other = _managed_user(session, manager, user_id)
    if role not in {r.value for r in Role}:
        raise InvalidActionError(f"Unknown role '{role}'", "Vai trò không hợp lệ.")
    _keep_an_admin(session, manager, other, role, other.active)
    if other.role != role:
        record_event(session, actor=manager.acting, entity_type="user", entity_id=other.id, action="set_role",
                     old=other.role, new=role)
        other.role = role


def reset_password(session: Session, user: User, user_id: int, password: str) -> None:
    """An admin sets a new password (the user forgot theirs). It obeys the password policy, the user
    must change it at the next login (the admin knows it), and a running lock-out ends with it."""
    manager = user_management(session, user)
    other = _managed_user(session, manager, user_id)
    try:
        check_new_password(password)
    except AuthError as exc:
        raise InvalidActionError(str(exc), exc.message_vi) from None
    other.password_hash = hash_password(password)
    other.must_change_password = True
    other.failed_logins = 0
    other.locked_until = None
    record_event(session, actor=manager.acting, entity_type="user", entity_id=other.id, action="password_reset")


def unlock_user(session: Session, user: User, user_id: int) -> datetime | None:
    """Clear a lock-out and the failed-login count; returns when the lock would have ended (None: no lock)."""
    manager = user_management(session, user)
    other = _managed_user(session, manager, user_id)
    locked = _aware(other.locked_until)
    running = locked if locked is not None and locked > datetime.now(UTC) else None
    if running is None and not other.failed_logins:
        return None
    record_event(session, actor=manager.acting, entity_type="user", entity_id=other.id, action="unlock",
                 old={"locked_until": running.isoformat() if running else None,
                      "failed_logins": other.failed_logins})
    other.locked_until = None
    other.failed_logins = 0
    return running


def set_user_units(session: Session, user: User, user_id: int, unit_ids: list[int]) -> None:
    manager = user_management(session, user)
    other = _managed_user(session, manager, user_id)
    units = _units_to_give(session, manager, unit_ids)
    old = sorted(u.id for u in other.units)
    other.units = units
    record_event(session, actor=manager.acting, entity_type="user", entity_id=other.id, action="set_units",
                 old=old, new=sorted(u.id for u in units))


def list_units(session: Session, user: User) -> list[UnitSummary]:
    """Units in the user's scope (admins: all), ordered by their path in the tree."""
    scope = load_scope(session, user, EVERYONE)
    every = {u.id: u for u in session.scalars(select(Unit))}

    def path(unit: Unit) -> str:
        lineage = unit_lineage(unit, lambda u: every.get(u.parent_id) if u.parent_id is not None else None)
        return " / ".join(reversed(lineage))

    visible = [u for u in every.values() if scope.covers(u.id)]
    return sorted((UnitSummary(u.id, u.name, u.code, u.level, u.parent_id, path(u)) for u in visible),
                  key=lambda s: s.path)


def create_unit(session: Session, user: User, *, name: str, level: str, parent_id: int | None = None,
                code: str | None = None) -> int:
    scope = load_scope(session, user, ADMINS)
    name = " ".join(name.split())
    if not name:
        raise InvalidActionError("Unit name is empty", "Tên đơn vị trống.")
    if level not in {lv.value for lv in UnitLevel}:
        raise InvalidActionError(f"Unknown unit level {level}", "Cấp đơn vị không hợp lệ.")
    if parent_id is not None:
        _units(session, [parent_id])
    duplicate = session.scalar(select(Unit.id).where(Unit.name == name, Unit.parent_id.is_(None) if parent_id is None
                                                      else Unit.parent_id == parent_id))
    if duplicate is not None:
        raise InvalidActionError(f"Unit {name} exists under parent {parent_id}", "Đơn vị này đã tồn tại.")
    unit = Unit(name=name, level=level, parent_id=parent_id, code=code)
    session.add(unit)
    session.flush()
    record_event(session, actor=scope.user, entity_type="unit", entity_id=unit.id, action="create",
                 new={"name": name, "level": level, "parent_id": parent_id, "code": code})
    return unit.id


def list_book_types(session: Session, user: User) -> list[BookTypeSummary]:
    """Every book type (templates), by queue priority; any signed-in user may read them."""
    load_scope(session, user, EVERYONE)
    return [
        BookTypeSummary(t.key, t.label, t.short_label, t.priority,
                        tuple((c.key, c.label, c.field_type) for c in t.columns))
        for t in all_book_types().values()
    ]

