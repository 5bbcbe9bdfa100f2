"""Admin work: users (create, deactivate, set units), units, book types."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import User


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


def list_users(session: Session, user: User) -> list[UserSummary]:
    raise NotImplementedError


def create_user_account(session: Session, user: User, *, username: str, password: str, role: str,
                        unit_ids: list[int], full_name: str = "") -> int:
    raise NotImplementedError


def set_active(session: Session, user: User, user_id: int, active: bool) -> None:
    raise NotImplementedError


def set_user_units(session: Session, user: User, user_id: int, unit_ids: list[int]) -> None:
    raise NotImplementedError


def list_units(session: Session, user: User) -> list[UnitSummary]:
    """Units in the user's scope (any role; admins see all), as a tree path."""
    raise NotImplementedError


def create_unit(session: Session, user: User, *, name: str, level: str, parent_id: int | None = None,
                code: str | None = None) -> int:
    raise NotImplementedError


def list_book_types(session: Session, user: User) -> list[BookTypeSummary]:
    raise NotImplementedError
