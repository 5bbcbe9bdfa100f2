"""Supervisors' work: queues (flagged, low confidence, cross-check mismatches), reassign, unflag,
reject, and bulk approval of all-high-confidence records (only with an explicit confirmation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import User
from workbench.policy import ReviewPolicy
from workbench.record_view import RecordSummary


def flagged_queue(session: Session, user: User, limit: int = 200) -> list[RecordSummary]:
    raise NotImplementedError


def low_confidence_queue(session: Session, user: User, threshold: float, limit: int = 200) -> list[RecordSummary]:
    """Open records whose confidence is below `threshold` (the supervisor's choice), lowest first."""
    raise NotImplementedError


def crosscheck_mismatch_queue(session: Session, user: User, limit: int = 200) -> list[RecordSummary]:
    """HOOK: records whose people differ from the population database (CSDLQGVDC).

    Returns [] until the population cross-check issue lands and stores its results.
    """
    return []


def reassign(session: Session, user: User, record_id: int, to_user_id: int | None,
             policy: ReviewPolicy = ReviewPolicy(), moment: datetime | None = None) -> int:
    """Give a record to another official in scope (a fresh claim), or free it (None). Returns new version."""
    raise NotImplementedError


def unflag(session: Session, user: User, record_id: int, expected_version: int) -> int:
    """Send a flagged record back to the officials' queue. Returns the new version."""
    raise NotImplementedError


def reject(session: Session, user: User, record_id: int, expected_version: int, reason: str) -> int:
    """Mark a record rejected (not a registration / unusable). Returns the new version."""
    raise NotImplementedError


def count_bulk_approvable(session: Session, user: User, *, book_id: int | None = None,
                          threshold: float | None = None, policy: ReviewPolicy = ReviewPolicy()) -> int:
    """How many records bulk_approve_high_confidence would approve (shown before confirming)."""
    raise NotImplementedError


def bulk_approve_high_confidence(session: Session, user: User, *, confirm: bool = False, book_id: int | None = None,
                                 threshold: float | None = None, policy: ReviewPolicy = ReviewPolicy(),
                                 moment: datetime | None = None) -> int:
    """Approve every unclaimed open record in scope whose every field is at or above `threshold`
    (default policy.high_confidence). Raises ConfirmationRequiredError unless confirm=True. Audited."""
    raise NotImplementedError
