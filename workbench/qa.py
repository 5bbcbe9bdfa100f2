"""Blind QA of approved records: draw a sample per verifier, re-check it seeing only the proposals,
and compute each verifier's error rate = fields QA changed / fields QA checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import User
from workbench.record_view import RecordSummary


@dataclass(frozen=True)
class QaItem:
    qa_id: int
    record: RecordSummary
    verifier_id: int
    sampled_at: datetime


@dataclass(frozen=True)
class QaResult:
    qa_id: int
    record_id: int
    fields_checked: int
    fields_changed: int
    changed_keys: tuple[str, ...]


@dataclass(frozen=True)
class VerifierQuality:
    verifier_id: int
    username: str
    records_checked: int
    fields_checked: int
    fields_changed: int

    @property
    def error_rate(self) -> float | None:
        return self.fields_changed / self.fields_checked if self.fields_checked else None


def draw_qa_sample(session: Session, user: User, verifier_id: int, percent: float, *,
                   since: datetime | None = None, seed: int | None = None) -> list[int]:
    """Draw `percent`% (at least one) of the verifier's approved, not yet sampled records in scope.
    Returns the new QA check ids."""
    raise NotImplementedError


def qa_queue(session: Session, user: User, limit: int = 200) -> list[QaItem]:
    """Pending QA checks in scope the acting supervisor may do (not their own approvals)."""
    raise NotImplementedError


def submit_qa(session: Session, user: User, qa_id: int, values: dict[str, str], *,
              apply_corrections: bool = True, moment: datetime | None = None) -> QaResult:
    """Record the blind re-check: `values` is what QA read for every field (missing = the proposal).
    A field counts as changed when QA's value differs from the verifier's final value; with
    `apply_corrections` those fields are corrected on the record (audited as qa_correct)."""
    raise NotImplementedError


def verifier_error_rates(session: Session, user: User) -> list[VerifierQuality]:
    raise NotImplementedError
