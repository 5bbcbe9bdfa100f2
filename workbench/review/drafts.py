"""Drafts: what an official has typed on a record but not yet saved, kept on the server (issue #15).

The verification form lives in the browser until Lưu/Duyệt; a reload (F5) or a dropped
connection used to throw the typing away, and the record could then be approved with the machine's
value. The page sends the form's values whenever one changes; only the fields that differ from the
record's current values are kept, one draft per (record, user). Opening the record again restores
them. Saving, approving, flagging or skipping the record deletes the draft (`clear_drafts`, called
by `review.save_record`), and a draft is never kept for a record this user may no longer save.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import FieldStatus, FieldValue, Record, RecordDraft, Role, User
from ocr.fields import clean_text
from workbench.review.queue import OPEN_STATUSES, as_utc, now_utc
from workbench.scope import REVIEWERS, load_scope, record_in_scope

MAX_VALUE_CHARS = 2000  # a field's text; anything longer is not typing, and is cut


@dataclass(frozen=True)
class Draft:
    record_id: int
    values: dict[str, str]  # field key -> text as typed, only fields that differ from the record now
    visited: tuple[str, ...]  # field keys the official has been in, in the order first seen
    updated_at: datetime | None


def save_draft(
    session: Session,
    user: User,
    record_id: int,
    values: Mapping[str, str],
    visited: Iterable[str] = (),
    *,
    moment: datetime | None = None,
) -> Draft | None:
    """Keep what `user` has typed on a record; None when nothing needs keeping (no change, no visit)
    or the record is no longer this user's to save (approved meanwhile, held by someone else)."""
    scope = load_scope(session, user, REVIEWERS)
    record = record_in_scope(session, scope, record_id)
    moment = moment or now_utc()
    if not _may_keep(record, scope.user, moment):
        return None
    fields = record.field_map()
    changed = {key: str(text)[:MAX_VALUE_CHARS] for key, text in values.items()
               if key in fields and clean_text(str(text)) != clean_text(current_value(fields[key]))}
    seen = tuple(dict.fromkeys(key for key in visited if key in fields))
    row = _draft_row(session, record_id, scope.user.id)
    if not changed and not seen:
        if row is not None:
            session.delete(row)
        return None
    if row is None:
        row = RecordDraft(record_id=record_id, user_id=scope.user.id)
        session.add(row)
    row.values, row.visited, row.updated_at = changed, list(seen), moment
    session.flush()
    return Draft(record_id, dict(changed), seen, moment)


def load_draft(session: Session, user: User, record_id: int) -> Draft | None:
    """The user's draft for a record, reduced to what still differs from the record (a field saved
    since with the same text needs no restoring); None when there is nothing to restore."""
    scope = load_scope(session, user, REVIEWERS)
    record = record_in_scope(session, scope, record_id)
    row = _draft_row(session, record_id, scope.user.id)
    if row is None or not _may_keep(record, scope.user, now_utc()):
        return None
    fields = record.field_map()
    values = {key: str(text) for key, text in (row.values or {}).items()
              if key in fields and clean_text(str(text)) != clean_text(current_value(fields[key]))}
    visited = tuple(key for key in (row.visited or []) if key in fields)
    if not values and not visited:
        return None
    return Draft(record_id, values, visited, row.updated_at)


def clear_drafts(session: Session, record_id: int, user_id: int | None = None) -> None:
    """Forget the drafts of a record (one user's, or everyone's once the record leaves the queue).
    Callers have already checked the acting user's scope on the record."""
    query = delete(RecordDraft).where(RecordDraft.record_id == record_id)
    if user_id is not None:
        query = query.where(RecordDraft.user_id == user_id)
    session.execute(query)


def current_value(field: FieldValue) -> str:
    """What the record holds for a field now: the person's value once decided, else the proposal."""
    if field.status != FieldStatus.PROPOSED and field.final_value is not None:
        return field.final_value
    return field.proposed_value


def _draft_row(session: Session, record_id: int, user_id: int) -> RecordDraft | None:
    return session.scalar(select(RecordDraft).where(RecordDraft.record_id == record_id,
                                                    RecordDraft.user_id == user_id))


def _may_keep(record: Record, user: User, moment: datetime) -> bool:
    """The same rule save_record applies: officials edit open records only, and a live claim of
    someone else wins (their record is not ours to draft on)."""
    if record.status not in OPEN_STATUSES and user.role == Role.OFFICIAL:
        return False
    expires = record.claim_expires_at
    held_by_other = record.assigned_to_id not in (None, user.id) and expires is not None \
        and as_utc(expires) >= moment
    return not held_by_other
