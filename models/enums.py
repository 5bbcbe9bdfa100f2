"""Status and role vocabularies, stored as plain strings (portable across SQLite/PostgreSQL)."""

from enum import StrEnum


class UnitLevel(StrEnum):
    XA = "xa"  # xã / phường / thị trấn
    HUYEN = "huyen"  # huyện / quận / thị xã / thành phố thuộc tỉnh
    TINH = "tinh"  # tỉnh / thành phố trực thuộc trung ương


class BookStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    DONE = "done"


class PageStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class RecordStatus(StrEnum):
    PROPOSED = "proposed"
    IN_REVIEW = "in_review"
    FLAGGED = "flagged"
    APPROVED = "approved"
    REJECTED = "rejected"


class FieldStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"


class Role(StrEnum):
    OFFICIAL = "official"
    SUPERVISOR = "supervisor"
    CONTRACTOR = "contractor"
    ADMIN = "admin"


def values(enum: type[StrEnum]) -> list[str]:
    return [str(m.value) for m in enum]
