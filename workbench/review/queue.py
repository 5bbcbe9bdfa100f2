"""The official's queue: which record comes next, and race-safe claims on it.

Order: the user's units only, book-type priority (birth -> marriage -> death -> adoption), then
the supervisor's queue order for the book's unit, then book/page/row order. Records this user
skipped recently go to the end. The default order (no setting for the unit or above it) is book
order: officials key a book beside its page images, page by page and row by row, and "hard later"
is kept by skipping (F9) and flagging (F8), which send a record out of the way (issue #15 item 6).
A supervisor may still choose easy first or hard first for a unit.

A claim is a conditional UPDATE that only succeeds when the record is still free (unassigned
or its claim expired) and its version is the one we read, so two officials asking at the same
moment never get the same record: the loser's UPDATE matches no row and it tries the next one.
On SQLite the UPDATE is the first statement of its write transaction, so it waits for the
writer lock (busy_timeout) instead of failing; on PostgreSQL the row lock does the same job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, case, or_, select, update
from sqlalchemy.orm import Session

from models import (
    AuditEvent,
    Book,
    FieldStatus,
    FieldValue,
    Page,
    QueueOrder,
    QueueSetting,
    Record,
    RecordStatus,
    Unit,
    User,
)
from workbench.audit import record_event
from workbench.book_types import all_book_types
from workbench.errors import ConflictError, InvalidActionError
from workbench.intake.book_type_hold import not_held
from workbench.policy import ReviewPolicy
from workbench.scope import REVIEWERS, SUPERVISORS, Scope, load_scope, record_in_scope, unit_in_scope

# Records an official may be handed: not yet approved, flagged or rejected.
OPEN_STATUSES = (RecordStatus.PROPOSED, RecordStatus.IN_REVIEW)
_CANDIDATES_PER_TRY = 25  # how many ranked candidates one next_record call tries to claim
DEFAULT_QUEUE_ORDER = QueueOrder.BOOK_ORDER  # where no supervisor chose an order for the unit


@dataclass(frozen=True)
class Claim:
    """A record held for one official until `expires_at`; `version` is what save_record expects."""

    record_id: int
    version: int
    expires_at: datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def claim_is_free(moment: datetime) -> ColumnElement[bool]:
    return or_(Record.assigned_to_id.is_(None), Record.claim_expires_at.is_(None), Record.claim_expires_at < moment)


def queue_visible(scope: Scope) -> ColumnElement[bool]:
    """Records that may appear in any queue of this user: in scope, on a live (not deleted) page that
    is not held for the contractor (it may belong to another book type: workbench.intake.book_type_hold)."""
    return and_(scope.unit_filter(Book.unit_id), Page.deleted.is_(False), not_held())


# --- queue order settings (supervisors) ---------------------------------------------------------

def queue_orders(session: Session, unit_ids: Iterable[int]) -> dict[int, QueueOrder]:
    """The order in force for each unit: its own setting, else the nearest ancestor's, else global."""
    settings = {s.unit_id: QueueOrder(s.queue_order) for s in session.scalars(select(QueueSetting))}
    default = settings.get(None, DEFAULT_QUEUE_ORDER)
    if len(settings) == (None in settings):  # no per-unit settings: skip walking the tree
        return {unit_id: default for unit_id in unit_ids}
    parents = {unit_id: parent_id for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id))}
    resolved: dict[int, QueueOrder] = {}
    for unit_id in unit_ids:
        current: int | None = unit_id
        seen: set[int] = set()
        while current is not None and current not in seen and current not in settings:
            seen.add(current)
            current = parents.get(current)
        resolved[unit_id] = settings[current] if current is not None and current in settings else default
    return resolved


def get_queue_order(session: Session, user: User, unit_id: int | None = None) -> QueueOrder:
    """The order in force for one unit of the supervisor's (None: the global order)."""
    scope = load_scope(session, user, SUPERVISORS)
    if unit_id is not None:
        unit_in_scope(session, scope, unit_id)
    if unit_id is None:
        setting = session.scalar(select(QueueSetting.queue_order).where(QueueSetting.unit_id.is_(None)))
        return QueueOrder(setting) if setting else DEFAULT_QUEUE_ORDER
    return queue_orders(session, [unit_id])[unit_id]


def set_queue_order(session: Session, user: User, order: str, unit_id: int | None = None) -> None:
    """Supervisor: set the queue order of one unit (and the units below it), or globally (admin only)."""
    scope = load_scope(session, user, SUPERVISORS)
    try:
        queue_order = QueueOrder(order)
    except ValueError:
        raise InvalidActionError(f"Unknown queue order '{order}'", "Thứ tự hàng đợi không hợp lệ.") from None
    if unit_id is None:
        if not scope.is_admin:
            raise InvalidActionError(
                "Only an admin may set the global queue order", "Chỉ quản trị viên được đặt thứ tự chung."
            )
        where: ColumnElement[bool] = QueueSetting.unit_id.is_(None)
    else:
        unit_in_scope(session, scope, unit_id)
        where = QueueSetting.unit_id == unit_id
    setting = session.scalar(select(QueueSetting).where(where))
    old = setting.queue_order if setting else None
    if setting is None:
        setting = QueueSetting(unit_id=unit_id)
        session.add(setting)
    setting.queue_order = queue_order
    setting.updated_by_id = scope.user.id
    setting.updated_at = now_utc()
    session.flush()
    record_event(session, actor=scope.user, entity_type="queue_setting", entity_id=setting.id,
                 action="set_queue_order", old={"unit_id": unit_id, "order": old},
                 new={"unit_id": unit_id, "order": str(queue_order)})


# --- next record and claims ---------------------------------------------------------------------

def _type_priority() -> ColumnElement[int]:
    priorities = {key: book_type.priority for key, book_type in all_book_types().items()}
    return case(priorities, value=Book.book_type, else_=999)


def _order_within_priority(session: Session, scope: Scope) -> ColumnElement[float]:
    """Per-unit queue order as one sort key: -confidence (easy first), +confidence, or 0 (book order)."""
    unit_ids = scope.unit_ids if scope.unit_ids is not None else frozenset(session.scalars(select(Unit.id)))
    by_order: dict[QueueOrder, list[int]] = {order: [] for order in QueueOrder}
    for unit_id, order in queue_orders(session, unit_ids).items():
        by_order[order].append(unit_id)
    return case(
        (Book.unit_id.in_(by_order[QueueOrder.HARD_FIRST]), Record.confidence),
        (Book.unit_id.in_(by_order[QueueOrder.BOOK_ORDER]), 0.0),
        else_=-Record.confidence,
    )


def _recently_skipped(user_id: int, since: datetime) -> ColumnElement[bool]:
    skipped = select(AuditEvent.entity_id).where(
        AuditEvent.entity_type == "record", AuditEvent.action == "skip",
        AuditEvent.user_id == user_id, AuditEvent.at >= since,
    )
    return Record.id.in_(skipped)


def queue_candidates(
    session: Session, scope: Scope, policy: ReviewPolicy, moment: datetime, limit: int = _CANDIDATES_PER_TRY
) -> list[tuple[int, int]]:
    """(record id, version) of the free open records in this user's queue, best first."""
    skipped = _recently_skipped(scope.user.id, moment - timedelta(hours=policy.skip_memory_hours))
    rows = session.execute(
        select(Record.id, Record.version)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(queue_visible(scope), Record.status.in_(OPEN_STATUSES), claim_is_free(moment))
        .order_by(
            case((skipped, 1), else_=0),
            _type_priority(),
            _order_within_priority(session, scope),
            Book.id, Page.page_index, Record.row_index,
        )
        .limit(limit)
    )
    return [(int(record_id), int(version)) for record_id, version in rows]


def try_claim(session: Session, record_id: int, version: int, user_id: int, moment: datetime,
               expires: datetime) -> bool:
    """The race-safe claim: succeeds only if nobody claimed or changed the record since we read it."""
    result = cast(CursorResult[Any], session.execute(
        update(Record)
        .where(Record.id == record_id, Record.version == version,
               Record.status.in_(OPEN_STATUSES), claim_is_free(moment))
        .values(assigned_to_id=user_id, claim_expires_at=expires, version=version + 1)
        .execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def current_claim(session: Session, user: User, moment: datetime | None = None) -> Claim | None:
    """The live claim this user already holds (so a page reload returns the same record)."""
    return _held_claim(session, load_scope(session, user, REVIEWERS), moment or now_utc())


def _held_claim(session: Session, scope: Scope, moment: datetime) -> Claim | None:
    row = session.execute(
        select(Record.id, Record.version, Record.claim_expires_at)
        .join(Book, Record.book_id == Book.id)
        .join(Page, Record.page_id == Page.id)
        .where(queue_visible(scope), Record.assigned_to_id == scope.user.id, Record.claim_expires_at >= moment,
               Record.status.in_(OPEN_STATUSES))
        .order_by(Record.claim_expires_at.desc())
        .limit(1)
    ).first()
    if row is None or row[2] is None:
        return None
    return Claim(row[0], row[1], as_utc(row[2]))


def next_record(
    session: Session, user: User, policy: ReviewPolicy = ReviewPolicy(), moment: datetime | None = None
) -> Claim | None:
    """Claim the next record of the user's queue (or return the one they already hold); None when empty."""
    scope = load_scope(session, user, REVIEWERS)
    moment = moment or now_utc()
    held = _held_claim(session, scope, moment)
    if held is not None:
        return held
    expires = moment + timedelta(minutes=policy.claim_minutes)
    # Losing a race only moves us to the next candidate; a few rounds cover a burst of claimers.
    for _ in range(4):
        candidates = queue_candidates(session, scope, policy, moment)
        if not candidates:
            return None
        for record_id, version in candidates:
            if try_claim(session, record_id, version, scope.user.id, moment, expires):
                return Claim(record_id, version + 1, expires)
    return None


def claim_record(
    session: Session, user: User, record_id: int, policy: ReviewPolicy = ReviewPolicy(),
    moment: datetime | None = None,
) -> Claim:
    """Claim one specific record (e.g. a supervisor opening it from a queue); ConflictError if held."""
    scope = load_scope(session, user, REVIEWERS)
    moment = moment or now_utc()
    record = record_in_scope(session, scope, record_id)
    if record.assigned_to_id == scope.user.id and record.claim_expires_at and as_utc(record.claim_expires_at) >= moment:
        return Claim(record.id, record.version, as_utc(record.claim_expires_at))
    expires = moment + timedelta(minutes=policy.claim_minutes)
    version = record.version
    if not try_claim(session, record.id, version, scope.user.id, moment, expires):
        raise ConflictError(f"Record {record_id} is held by someone else or not open",
                            "Bản ghi đang được người khác xử lý hoặc không còn trong hàng đợi.")
    session.expire(record)  # the Core UPDATE bypassed the ORM copy
    return Claim(record.id, version + 1, expires)


def release_claim(session: Session, user: User, record_id: int) -> None:
    """Give a claimed record back without changing it (e.g. logging out)."""
    scope = load_scope(session, user, REVIEWERS)
    record_in_scope(session, scope, record_id)
    session.execute(
        update(Record)
        .where(Record.id == record_id, Record.assigned_to_id == scope.user.id)
        .values(assigned_to_id=None, claim_expires_at=None, version=Record.version + 1)
        .execution_options(synchronize_session=False)
    )


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- ranking by expected wrong fields (supervisors' low-confidence queue) -----------------------
#
# A record's stored confidence is its weakest field, so one empty or odd cell pins a whole record
# near zero and the queue cannot tell a record with one doubtful cell from one with eight. Fields
# are calibrated probabilities of being right, so the expected number of wrong fields if the
# record were approved as proposed is the sum of (1 - confidence) over the fields nobody has
# confirmed yet. An empty proposal carries the pipeline's own doubt about the blank (a clean
# blank 0.97, a blank with writing-like ink 0.3, ink nothing could be read from 0.05), so a
# doubtful empty counts as the likely miss it is, and a clean one barely counts. A field nothing
# ever read (a page uploaded without recognition: no engine, no value) says nothing about the
# page: it counts as wrong for certain (1), and is named "not read", never "empty".

@dataclass(frozen=True)
class FieldEvidence:
    """What ranking needs of one field: the stored proposal and whether a person has settled it."""

    key: str
    field_type: str
    proposed_value: str
    confidence: float  # calibrated probability that the proposal is right, as stored at ingest
    settled: bool  # confirmed or corrected by a person: the machine's doubt no longer applies
    read: bool = True  # a recognizer proposed it; False: never read (see `never_read`)


@dataclass(frozen=True)
class FieldRisk:
    key: str
    field_type: str
    proposed_value: str
    confidence: float
    p_wrong: float
    empty: bool  # an empty proposal (for "doubtful empty" in the UI)
    unread: bool = False  # nothing ever read it (for "not read" in the UI, instead of "doubtful empty")


@dataclass(frozen=True)
class RecordRisk:
    record_id: int
    expected_wrong: float
    fields: tuple[FieldRisk, ...]  # template order

    def weak_fields(self, threshold: float) -> tuple[FieldRisk, ...]:
        """Unsettled fields below `threshold` confidence, most likely wrong first."""
        weak = [f for f in self.fields if f.p_wrong > 0 and f.confidence < threshold]
        return tuple(sorted(weak, key=lambda f: -f.p_wrong))


def never_read(engine: str | None, proposed_value: str) -> bool:
    """A stored field no recognizer proposed anything for: ingest without recognition stores an
    empty value with no engine (and confidence 0); every recognizer's proposal names its engine."""
    return engine is None and proposed_value == ""


def field_error_probability(field: FieldEvidence) -> float:
    """P(the proposal is wrong): 0 once a person settled it, 1 if nothing ever read it, else
    1 - its calibrated confidence."""
    if field.settled:
        return 0.0
    if not field.read:
        return 1.0
    return 1.0 - min(max(field.confidence, 0.0), 1.0)


def record_risk(record_id: int, fields: Iterable[FieldEvidence]) -> RecordRisk:
    risks = tuple(
        FieldRisk(f.key, f.field_type, f.proposed_value, f.confidence, field_error_probability(f),
                  not f.proposed_value.strip(), unread=not f.read)
        for f in fields
    )
    return RecordRisk(record_id, sum(r.p_wrong for r in risks), risks)


def rank_by_expected_errors(records: Iterable[RecordRisk]) -> list[RecordRisk]:
    """Most expected wrong fields first; ties: the weakest single field first, then record id."""
    def key(risk: RecordRisk) -> tuple[float, float, int]:
        worst = max((f.p_wrong for f in risk.fields), default=0.0)
        return (-round(risk.expected_wrong, 9), -round(worst, 9), risk.record_id)

    return sorted(records, key=key)


def field_error_sql() -> ColumnElement[float]:
    """`field_error_probability` as SQL over FieldValue (same rule: the database orders, Python details)."""
    unsettled = FieldValue.status == FieldStatus.PROPOSED
    unread = and_(FieldValue.engine.is_(None), FieldValue.proposed_value == "")
    return case((and_(unsettled, unread), 1.0), (unsettled, 1.0 - FieldValue.confidence), else_=0.0)
