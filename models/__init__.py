"""SQLAlchemy ORM entities and Alembic migrations (no business logic here)."""

from models.base import Base
from models.entities import (
    AuditEvent,
    Book,
    CrosscheckResult,
    FieldValue,
    Page,
    PopulationExtract,
    QaCheck,
    QueueSetting,
    Record,
    Unit,
    UnitPlan,
    User,
    user_units,
)
from models.enums import (
    BookStatus,
    CrosscheckStatus,
    FieldStatus,
    PageStatus,
    QueueOrder,
    RecordStatus,
    Role,
    UnitLevel,
)

__all__ = [
    "AuditEvent",
    "Base",
    "Book",
    "BookStatus",
    "CrosscheckResult",
    "CrosscheckStatus",
    "FieldStatus",
    "FieldValue",
    "Page",
    "PageStatus",
    "PopulationExtract",
    "QaCheck",
    "QueueOrder",
    "QueueSetting",
    "Record",
    "RecordStatus",
    "Role",
    "Unit",
    "UnitLevel",
    "UnitPlan",
    "User",
    "user_units",
]
