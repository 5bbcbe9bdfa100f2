"""What validators report: a stable code for software, a Vietnamese message for officials."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocr.types import FieldIssue  # defined with the proposals that carry it

__all__ = ["FieldIssue", "SequenceIssue"]


@dataclass(frozen=True)
class SequenceIssue:
    """A problem in the run of registration numbers through a book."""

    code: str  # "gap" | "repeat" | "out_of_order" | "unreadable"
    index: int  # 0-based position in the list where the problem shows
    number: str  # the registration number as written at that position
    message: str  # Vietnamese
    missing: tuple[int, ...] = field(default=())  # for "gap": the numbers that never appear
