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


class QueueOrder(StrEnum):
    """How an official's queue is ordered within one book-type priority (set by supervisors)."""

    EASY_FIRST = "easy_first"  # highest record confidence first (the provincial plans' "easy first")
    HARD_FIRST = "hard_first"  # lowest confidence first
    BOOK_ORDER = "book_order"  # page by page, row by row, as written in the book (the default: workbench.review.queue)


class CrosscheckStatus(StrEnum):
    """Outcome of matching one person of an approved record against the population extract."""

    MATCH = "match"  # one citizen agrees on every compared field: fill in the ID number
    DIFFERENT = "different"  # found, but name/date/parents differ: tracking list, never overwrite
    AMBIGUOUS = "ambiguous"  # several citizens fit equally well: tracking list
    NOT_FOUND = "not_found"  # new person for the population database
