"""Writing the append-only audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import AuditEvent, User
from ocr.types import ProcessingStep

PIPELINE_ACTOR = "pipeline"


def record_event(
    session: Session,
    *,
    actor: User | None,
    entity_type: str,
    entity_id: int | None,
    action: str,
    old: Any = None,
    new: Any = None,
) -> AuditEvent:
    event = AuditEvent(
        user_id=actor.id if actor else None,
        actor=actor.username if actor else PIPELINE_ACTOR,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        old_value=old,
        new_value=new,
    )
    session.add(event)
    return event


def record_step(session: Session, entity_type: str, entity_id: int, step: ProcessingStep) -> AuditEvent:
    """A machine step, with its settings and timing, as Kraken's ProcessingStep records it."""
    event = AuditEvent(
        actor=PIPELINE_ACTOR,
        entity_type=entity_type,
        entity_id=entity_id,
        action="pipeline_step",
        new_value=_jsonable(step.result),
        step_name=step.name,
        step_settings=_jsonable(step.settings),
        seconds=round(step.seconds, 4),
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | bool) or value is None:
        return value
    if isinstance(value, float):
        return round(value, 6)
    try:
        return float(value)  # numpy scalars
    except (TypeError, ValueError):
        return str(value)
