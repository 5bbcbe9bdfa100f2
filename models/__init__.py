"""SQLAlchemy ORM entities and Alembic migrations (no business logic here)."""

from models.base import Base
from models.entities import (
    AuditEvent,
    Book,
    FieldValue,
    Page,
    Record,
    Unit,
    User,
    user_units,
)
from models.enums import (
    BookStatus,
    FieldStatus,
    PageStatus,
    RecordStatus,
    Role,
    UnitLevel,
)

__all__ = [
    "AuditEvent",
    "Base",
    "Book",
    "BookStatus",
    "FieldStatus",
    "FieldValue",
    "Page",
    "PageStatus",
    "Record",
    "RecordStatus",
    "Role",
    "Unit",
    "UnitLevel",
    "User",
    "user_units",
]
