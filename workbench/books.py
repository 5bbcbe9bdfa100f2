"""Units and books: lookup and creation by identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book, Unit, UnitLevel, User
from workbench.audit import record_event
from workbench.book_types import get_book_type


class BookError(ValueError):
    """A book cannot be found or created as asked."""


@dataclass(frozen=True)
class BookIdentity:
    """A book is identified by (unit, book type, first year, volume)."""

    unit_name: str
    book_type: str
    year: int
    volume: int = 1
    year_to: int | None = None
    declared_count: int | None = None


def unit_lineage(unit: Unit, parent_of: Callable[[Unit], Unit | None]) -> list[str]:
    """Names from the unit up to the root of its tree (safe against a cycle in bad data)."""
    names: list[str] = []
    seen: set[int] = set()
    current: Unit | None = unit
    while current is not None and current.id not in seen:
        seen.add(current.id)
        names.append(current.name)
        current = parent_of(current)
    return names


def get_or_create_unit(session: Session, name: str, level: str = UnitLevel.XA, actor: User | None = None) -> Unit:
    name = " ".join(name.split())
    if not name:
        raise BookError("Unit name is empty")
    unit = session.scalar(select(Unit).where(Unit.name == name).order_by(Unit.id))
    if unit is None:
        unit = Unit(name=name, level=level)
        session.add(unit)
        session.flush()
        record_event(session, actor=actor, entity_type="unit", entity_id=unit.id, action="create", new={"name": name})
    return unit


def get_or_create_book(session: Session, identity: BookIdentity, actor: User | None = None) -> Book:
    get_book_type(identity.book_type)  # validates the key against the templates
    if not 1800 <= identity.year <= 2100:
        raise BookError(f"Implausible book year {identity.year}")
    if identity.volume < 1:
        raise BookError(f"Volume must be >= 1, got {identity.volume}")
    unit = get_or_create_unit(session, identity.unit_name, actor=actor)
    book = session.scalar(
        select(Book).where(
            Book.unit_id == unit.id,
            Book.book_type == identity.book_type,
            Book.year_from == identity.year,
            Book.volume == identity.volume,
        )
    )
    if book is None:
        book = Book(
            unit_id=unit.id,
            book_type=identity.book_type,
            year_from=identity.year,
            year_to=identity.year_to,
            volume=identity.volume,
            declared_count=identity.declared_count,
            created_by_id=actor.id if actor else None,
        )
        session.add(book)
        session.flush()
        record_event(
            session, actor=actor, entity_type="book", entity_id=book.id, action="create",
            new={"unit": unit.name, "book_type": identity.book_type, "year": identity.year,
                 "volume": identity.volume, "declared_count": identity.declared_count},
        )
    elif identity.declared_count is not None and book.declared_count != identity.declared_count:
        record_event(
            session, actor=actor, entity_type="book", entity_id=book.id, action="set_declared_count",
            old=book.declared_count, new=identity.declared_count,
        )
        book.declared_count = identity.declared_count
    return book


def get_book(session: Session, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise BookError(f"No book with id {book_id}")
    return book
