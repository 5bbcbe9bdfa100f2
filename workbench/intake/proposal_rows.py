"""The one mapping from an OCR proposal (``ocr.types.FieldProposal``) to a field row (``models.FieldValue``).

Ingest (``workbench.intake.ingest.new_record``, also used by the segmentation editor) and re-recognition
(``workbench.training.rerecognize``) both write proposals through :func:`write_proposal`, so a row
holds the same things whichever path proposed it. What is not the proposal's stays with the caller:
the row's key, template position and cell box (set when the row is created), its review status and
final value (an official's), and the model version (``Page.model_version``, one per page).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from models import FieldValue
from ocr.types import FieldIssue, FieldProposal

# Stored between two lines' characters in FieldValue.char_confidences (the rows' format predates
# per-line characters; a recognised space always has a width, so this row is never a character).
LINE_BREAK_ROW: tuple[str, float, int, int] = (" ", 1.0, 0, 0)


def char_confidence_rows(proposal: FieldProposal) -> list[list[Any]]:
    """The proposal's characters as stored: ``[char, confidence (4 decimals), x0, x1]`` each, line by
    line, with LINE_BREAK_ROW between two lines."""
    rows: list[list[Any]] = []
    for i, line in enumerate(proposal.char_lines):
        if i:
            rows.append(list(LINE_BREAK_ROW))
        rows.extend([c.char, round(c.confidence, 4), c.x0, c.x1] for c in line)
    return rows


def char_row_lines(rows: Sequence[Sequence[Any]]) -> list[list[Sequence[Any]]]:
    """Stored character rows split back into the cell's lines (one empty line for no rows)."""
    lines: list[list[Sequence[Any]]] = [[]]
    for row in rows:
        if (row[0], row[2], row[3]) == (LINE_BREAK_ROW[0], LINE_BREAK_ROW[2], LINE_BREAK_ROW[3]):
            lines.append([])
        else:
            lines[-1].append(row)
    return lines


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
