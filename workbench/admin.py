"""Admin work: users (create, deactivate, set units), units, book types. Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Unit, UnitLevel, User
from workbench.audit import record_event
from workbench.auth import AuthError, create_user
from workbench.book_types import all_book_types
from workbench.books import unit_lineage
from workbench.errors import InvalidActionError, NotFoundError
from workbench.scope import ADMINS, EVERYONE, load_scope


@dataclass(frozen=True)
class UserSummary:
    id: int
    username: str
    full_name: str
    role: str
    active: bool
    unit_ids: tuple[int, ...]
    unit_names: tuple[str, ...]


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
    return UserSummary(user.id, user.username, user.full_name, user.role, user.active,
                       tuple(u.id for u in units), tuple(u.name for u in units))


def list_users(session: Session, user: User) -> list[UserSummary]:
    load_scope(session, user, ADMINS)
    return [user_summary(u) for u in session.scalars(select(User).order_by(User.username))]


def _units(session: Session, unit_ids: list[int]) -> list[Unit]:
    units = [session.get(Unit, unit_id) for unit_id in unit_ids]
    missing = [unit_id for unit_id, unit in zip(unit_ids, units, strict=True) if unit is None]
    if missing:
        raise NotFoundError(f"No units {missing}", "Không tìm thấy đơn vị.")
    return [u for u in units if u is not None]


def create_user_account(session: Session, user: User, *, username: str, password: str, role: str,
                        unit_ids: list[int], full_name: str = "") -> int:
    """Create a user (argon2 hash, audited via workbench.auth)."""
    scope = load_scope(session, user, ADMINS)
    units = _units(session, unit_ids)
    try:
        created = create_user(session, username, password, role, full_name=full_name, actor=scope.user)
    except AuthError as exc:  # one error family for the pages: ServiceError with message_vi
        raise InvalidActionError(str(exc), exc.message_vi) from None
    created.units = units
    session.flush()
    record_event(session, actor=scope.user, entity_type="user", entity_id=created.id, action="set_units",
                 old=[], new=[u.id for u in units])
    return created.id


def _other_user(session: Session, user_id: int) -> User:
    other = session.get(User, user_id)
    if other is None:
        raise NotFoundError(f"No user {user_id}", "Không tìm thấy người dùng.")
    return other


def set_active(session: Session, user: User, user_id: int, active: bool) -> None:
    """Deactivate (or reactivate) a user; a deactivated user is refused by every service at once."""
    scope = load_scope(session, user, ADMINS)
    other = _other_user(session, user_id)
    if other.id == scope.user.id and not active:
        raise InvalidActionError("An admin cannot deactivate themselves", "Không thể tự khoá tài khoản của mình.")
    if other.active != active:
        record_event(session, actor=scope.user, entity_type="user", entity_id=other.id,
                     action="activate" if active else "deactivate", old=other.active, new=active)
        other.active = active


def set_user_units(session: Session, user: User, user_id: int, unit_ids: list[int]) -> None:
    scope = load_scope(session, user, ADMINS)
    other = _other_user(session, user_id)
    units = _units(session, unit_ids)
    old = sorted(u.id for u in other.units)
    other.units = units
    record_event(session, actor=scope.user, entity_type="user", entity_id=other.id, action="set_units",
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

