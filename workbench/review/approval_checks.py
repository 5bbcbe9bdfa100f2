"""Whether approving a record as typed needs the official's explicit confirmation (issue #15 item 2).

Approving stores every field as final, so a value the validators reject, or a doubtful (amber or
red) field nobody looked at, must not slip through on Ctrl+Enter. `approval_concerns` lists what an
official must confirm, field by field and rule by rule; the page asks, and a confirmed approval
carries the list into the audit trail (`audit_payload`). Pure: no database, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ocr.fields import ValidationContext, clean_text, validate_record
from workbench.review.record_view import FieldView

NOT_VISITED = "not_visited"  # the rule code of "doubtful field never visited"
DOUBTFUL_BANDS = frozenset({"medium", "low"})  # amber and red on the form
UNDECIDED = "proposed"  # a field no person has confirmed or corrected yet
BAND_VI = {"medium": "vàng", "low": "đỏ"}


@dataclass(frozen=True)
class ApprovalConcern:
    """One reason an approval must be confirmed."""

    key: str  # field key
    label: str  # the field's Vietnamese label
    rule: str  # validator issue code (e.g. "invalid_calendar_date") or NOT_VISITED
    message: str  # Vietnamese, for the confirmation dialog


def approval_concerns(
    fields: Sequence[FieldView],
    typed: Mapping[str, str],
    visited: Collection[str],
    context: ValidationContext | None = None,
) -> tuple[ApprovalConcern, ...]:
    """What approving `typed` (missing keys: the value shown) would store without a person's check:
    every validator error (warnings and notes do not block), then every amber/red field that is
    still the machine's proposal, unchanged, and was never visited. Form order, errors first."""
    values = {f.key: typed.get(f.key, f.value_to_show) for f in fields}
    issues = validate_record(values, {f.key: f.field_type for f in fields}, context)
    concerns = [
        ApprovalConcern(f.key, f.label, issue.code, issue.message)
        for f in fields for issue in issues.get(f.key, []) if issue.severity == "error"
    ]
    for f in fields:
        # Still the machine's reading, untouched: what the official typed (or had restored) would show.
        untouched = f.status == UNDECIDED and clean_text(values[f.key]) == clean_text(f.proposed_value)
        if f.band in DOUBTFUL_BANDS and untouched and f.key not in visited:
            concerns.append(ApprovalConcern(
                f.key, f.label, NOT_VISITED,
                f"Trường màu {BAND_VI[f.band]} (máy đọc tin cậy {f.confidence:.0%}) chưa được xem",
            ))
    return tuple(concerns)


def fields_to_save(fields: Sequence[FieldView], typed: Mapping[str, str], visited: Collection[str]) -> dict[str, str]:
    """What Lưu (Ctrl+S) stores: the fields the official changed or has been in. The rest stay the
    machine's proposal, so saving never turns an unseen amber/red field into a person's decision."""
    return {f.key: typed[f.key] for f in fields
            if f.key in typed and (f.key in visited or clean_text(typed[f.key]) != clean_text(stored_value(f)))}


def stored_value(field: FieldView) -> str:
    """The value the record holds now: the person's once decided, else the machine's proposal."""
    return field.final_value if field.status != UNDECIDED and field.final_value is not None else field.proposed_value


def concern_lines_vi(concerns: Sequence[ApprovalConcern]) -> list[str]:
    """The dialog's lines: one per validator error ("<field label>: <what is wrong>"), then one line
    naming every never-visited doubtful field (a record nobody looked at would list them all)."""
    lines = [f"{c.label}: {c.message}" for c in concerns if c.rule != NOT_VISITED]
    unseen = [c.label for c in concerns if c.rule == NOT_VISITED]
    if unseen:
        lines.append(f"Trường màu vàng/đỏ chưa được xem ({len(unseen)}): " + ", ".join(unseen))
    return lines


def audit_payload(concerns: Sequence[ApprovalConcern]) -> list[dict[str, str]]:
    """The confirmed concerns as the approve event stores them: which field, which rule, what was said."""
    return [{"field": c.key, "rule": c.rule, "message": c.message} for c in concerns]
