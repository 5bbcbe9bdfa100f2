"""What the verification page shows for one record, as plain dataclasses (no ORM objects leak out).

Field messages are recomputed from the values shown (validators in `ocr.fields`), so a correction
clears or raises messages immediately; a place also shows the gazetteer's normalized current unit
beside the text as written (never replacing it). `overrides` lays unsaved typing (a restored draft)
over the stored values, so the form and its messages show what the official had typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import Book, FieldStatus, Record, Unit, User
from ocr.fields import get_gazetteer, validate_record
from workbench.book_types import get_book_type
from workbench.books import unit_lineage
from workbench.policy import ReviewPolicy
from workbench.scope import REVIEWERS, load_scope, record_in_scope

CharSpan = tuple[str, float, int, int]  # (char, confidence, x0, x1) on the cell's first line image


@dataclass(frozen=True)
class BookInfo:
    id: int
    book_type: str  # template key, e.g. "khai_sinh"
    type_label: str  # "Sổ đăng ký khai sinh"
    unit_id: int
    unit_name: str
    year: int
    volume: int


@dataclass(frozen=True)
class FieldView:
    key: str
    label: str
    field_type: str
    proposed_value: str
    final_value: str | None  # None until confirmed/corrected (and always None in a blind QA view)
    value_to_show: str  # what the input box is prefilled with
    status: str  # proposed / confirmed / corrected
    confidence: float
    band: str  # "high" / "medium" / "low"
    chars: tuple[CharSpan, ...]
    doubtful_chars: tuple[int, ...]  # indices into `chars` below the doubtful threshold
    cell_bbox: tuple[int, int, int, int] | None  # (x, y, w, h) on the deskewed page
    messages: tuple[str, ...]  # Vietnamese validator messages for value_to_show
    current_unit: str | None  # places only: normalized current unit from the gazetteer
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordView:
    record_id: int
    version: int  # pass back to save_record as expected_version
    status: str
    flag_reason: str | None
    confidence: float
    book: BookInfo
    page_id: int
    page_index: int
    row_index: int
    image_path: str  # deskewed page image, relative to the data directory (original if not deskewed)
    page_size: tuple[int, int] | None  # (width, height) of that image
    record_bbox: tuple[int, int, int, int]
    fields: tuple[FieldView, ...]  # template column order
    assigned_to_id: int | None
    claim_expires_at: datetime | None
    blind: bool = False  # QA view: finals hidden

    def field(self, key: str) -> FieldView:
        for view in self.fields:
            if view.key == key:
                return view
        raise KeyError(key)

    @property
    def values(self) -> dict[str, str]:
        """The prefilled values, i.e. what approving without edits would store."""
        return {f.key: f.value_to_show for f in self.fields}


@dataclass(frozen=True)
class RecordSummary:
    """One line of a queue or list (supervisor queues, QA lists)."""

    record_id: int
    version: int
    status: str
    confidence: float
    book_id: int
    book_label: str  # e.g. "Khai sinh 1995 quyển 1"
    unit_name: str
    page_index: int
    row_index: int
    flag_reason: str | None
    assigned_to_id: int | None
    approved_by_id: int | None
    approved_at: datetime | None


def book_info(book: Book) -> BookInfo:
    return BookInfo(
        id=book.id, book_type=book.book_type, type_label=get_book_type(book.book_type).label,
        unit_id=book.unit_id, unit_name=book.unit.name, year=book.year_from, volume=book.volume,
    )


def book_label(book: Book) -> str:
    return f"{get_book_type(book.book_type).short_label} {book.year_from} quyển {book.volume}"


def summarize(record: Record) -> RecordSummary:
    return RecordSummary(
        record_id=record.id, version=record.version, status=record.status, confidence=record.confidence,
        book_id=record.book_id, book_label=book_label(record.book), unit_name=record.book.unit.name,
        page_index=record.page.page_index, row_index=record.row_index, flag_reason=record.flag_reason,
        assigned_to_id=record.assigned_to_id, approved_by_id=record.approved_by_id,
        approved_at=record.approved_at,
    )


def field_messages(book_type: str, values: dict[str, str]) -> dict[str, list[str]]:
    """Vietnamese validator messages per field for these values (the UI calls it on every edit)."""
    field_types = {c.key: c.field_type for c in get_book_type(book_type).columns}
    issues = validate_record({k: v for k, v in values.items() if k in field_types}, field_types)
    return {key: [issue.message for issue in found] for key, found in issues.items()}


def current_unit_of(place: str, near: str | None = None) -> str | None:
    """The normalized current administrative unit of a place as written, when the gazetteer knows it.
    `near` names the registering unit, to break ties for a bare commune name."""
    if not place.strip():
        return None
    found = get_gazetteer().lookup_current(place, near=near)
    return found.address if found is not None else None


def unit_address(unit: Unit) -> str:
    """"Xã A, Huyện B, Tỉnh C": the unit and its ancestors, as the gazetteer's `near` hint."""
    return ", ".join(unit_lineage(unit, lambda u: u.parent))


def value_to_show(status: str, proposed: str, final: str | None, blind: bool) -> str:
    if blind or status == FieldStatus.PROPOSED or final is None:
        return proposed
    return final


def get_record_view(
    session: Session, user: User, record_id: int, policy: ReviewPolicy = ReviewPolicy(), *, blind: bool = False,
    overrides: Mapping[str, str] | None = None,
) -> RecordView:
    """Everything the verification page needs for one record; `blind` hides the verifier's finals (QA);
    `overrides` (field key -> typed text) replaces what the form is prefilled with."""
    scope = load_scope(session, user, REVIEWERS)
    record = record_in_scope(session, scope, record_id)
    book_type = get_book_type(record.book.book_type)
    stored = record.field_map()
    typed = {k: v for k, v in (overrides or {}).items() if k in stored}
    shown = {
        c.key: typed[c.key] if c.key in typed
        else value_to_show(f.status, f.proposed_value, f.final_value, blind) if (f := stored.get(c.key)) else ""
        for c in book_type.columns
    }
    live_messages = field_messages(book_type.key, shown)
    near = unit_address(record.book.unit)
    views = []
    for column in book_type.columns:
        value = stored.get(column.key)
        chars = tuple((str(c[0]), float(c[1]), int(c[2]), int(c[3])) for c in (value.char_confidences if value else []))
        edited = (value is not None and value.status == FieldStatus.CORRECTED and not blind) or column.key in typed
        # Pipeline messages describe the proposal: keep them unless the official replaced the value.
        pipeline_messages = [] if edited or value is None else list(value.messages)
        messages = tuple(dict.fromkeys(pipeline_messages + live_messages.get(column.key, [])))
        confidence = value.confidence if value else 0.0
        views.append(
            FieldView(
                key=column.key, label=column.label, field_type=column.field_type,
                proposed_value=value.proposed_value if value else "",
                final_value=None if blind or value is None else value.final_value,
                value_to_show=shown[column.key],
                status=str(FieldStatus.PROPOSED) if blind or value is None else value.status,
                confidence=confidence, band=policy.bands.band(confidence), chars=chars,
                doubtful_chars=tuple(i for i, c in enumerate(chars) if c[1] < policy.doubtful_char),
                cell_bbox=_box(value.bbox) if value else None,
                messages=messages,
                current_unit=current_unit_of(shown[column.key], near) if column.field_type == "place" else None,
                alternatives=tuple(value.alternatives) if value else (),
            )
        )
    page = record.page
    return RecordView(
        record_id=record.id, version=record.version, status=record.status, flag_reason=record.flag_reason,
        confidence=record.confidence, book=book_info(record.book), page_id=page.id, page_index=page.page_index,
        row_index=record.row_index, image_path=page.deskewed_path or page.image_path,
        page_size=(page.width, page.height) if page.width and page.height else None,
        record_bbox=_box(record.bbox) or (0, 0, 0, 0), fields=tuple(views),
        assigned_to_id=record.assigned_to_id, claim_expires_at=record.claim_expires_at, blind=blind,
    )


def _box(values: list[int] | None) -> tuple[int, int, int, int] | None:
    if not values or len(values) != 4:
        return None
    x, y, w, h = (int(v) for v in values)
    return (x, y, w, h)
