"""Stand-ins for service calls the UI needs but the service layer does not offer yet.

Each is the smallest composition of existing service functions; replace with the service call
when it lands (requested in the UI hand-over report).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import User
from workbench.errors import ConflictError
from workbench.policy import ReviewPolicy
from workbench.review.queue import OPEN_STATUSES, claim_record
from workbench.review.record_view import RecordView, get_record_view


def open_record_for_review(session: Session, user: User, record_id: int, policy: ReviewPolicy) -> RecordView:
    """A record a supervisor opened from a queue. Open records are claimed; flagged or approved ones
    are in nobody's queue, so a supervisor reviews them without a claim (save_record re-checks the
    role and the version, so nothing is overwritten)."""
    try:
        claim_record(session, user, record_id, policy)
    except ConflictError:
        view = get_record_view(session, user, record_id, policy)
        if view.status in OPEN_STATUSES:
            raise  # another official holds it right now
        return view
    return get_record_view(session, user, record_id, policy)
