"""The one mapping from an OCR proposal (``ocr.types.FieldProposal``) to a field row (``models.FieldValue``).

Ingest (``workbench.intake.ingest.new_record``, also used by the segmentation editor) and re-recognition
(``workbench.training.rerecognize``) both write proposals through :func:`write_proposal`, so a row
holds the same things whichever path proposed it. What is not the proposal's stays with the caller:
the row's key, template position and cell box (set when the row is created), its review status and
final value (an official's), and the model version (``Page.model_version``, one per page).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models import FieldValue
from ocr.types import FieldIssue, FieldProposal


def char_confidence_rows(proposal: FieldProposal) -> list[list[Any]]:
    """The proposal's characters as stored: ``[char, confidence (4 decimals), x0, x1]`` each."""
    return [[c.char, round(c.confidence, 4), c.x0, c.x1] for c in proposal.chars]


def issue_messages(issues: Iterable[FieldIssue]) -> list[str]:
    """The issues as stored (``FieldValue.messages``): their Vietnamese messages, in order."""
    return [i.message for i in issues]


def write_proposal(row: FieldValue, proposal: FieldProposal) -> FieldValue:
    """Write ``proposal`` onto ``row`` (value, confidence clamped to [0, 1], per-character
    confidences, alternatives, the issues' messages, engine; an empty engine is stored as NULL); returns ``row``."""
    row.proposed_value = proposal.value
    row.confidence = float(min(max(proposal.confidence, 0.0), 1.0))
    row.char_confidences = char_confidence_rows(proposal)
    row.alternatives = list(proposal.alternatives)
    row.messages = issue_messages(proposal.issues)
    row.engine = proposal.engine or None
    return row
