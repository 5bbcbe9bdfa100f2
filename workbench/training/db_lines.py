"""The training set from the database: every confirmed/corrected field's line image(s) + text.

For each page with reviewed fields, the stored deskewed page is re-cut with the page
pipeline's cell cutter at the stored cell boxes. Single-line cells pair the crop with the
value; multi-line cells are split at the word boundary that best matches the machine's own
line breaks (see ``line_text``), or skipped when that split is not trustworthy.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Book, FieldStatus, FieldValue, Page, Record, Unit
from ocr.types import Box
from workbench.book_types import get_book_type
from workbench.training.cell_lines import StoredCell, cut_stored_cells
from workbench.training.dataset import LabelledLine
from workbench.training.line_text import proposed_lines, split_text_to_lines

log = logging.getLogger(__name__)

REVIEWED = (FieldStatus.CONFIRMED, FieldStatus.CORRECTED)


@dataclass(frozen=True)
class ReviewedField:
    field_value_id: int
    key: str
    text: str  # the official's value as written
    box: Box
    row_height: float
    char_confidences: list
    page_id: int
    book_id: int
    book_type: str
    unit_id: int
    unit_name: str
    year: int
    deskewed_path: str


def final_text(field: FieldValue) -> str:
    """What the official confirmed: final_value once set, else the (confirmed) proposal."""
    return field.final_value if field.final_value is not None else field.proposed_value


def reviewed_fields(
    session: Session, since: datetime | None = None, book_ids: list[int] | None = None
) -> list[ReviewedField]:
    """Confirmed/corrected, non-empty fields with a cell box on a deskewed, non-deleted page."""
    query = (
        select(FieldValue, Record, Page, Book, Unit)
        .join(Record, FieldValue.record_id == Record.id)
        .join(Page, Record.page_id == Page.id)
        .join(Book, Record.book_id == Book.id)
        .join(Unit, Book.unit_id == Unit.id)
        .where(FieldValue.status.in_([str(s) for s in REVIEWED]), FieldValue.bbox.is_not(None),
               Page.deskewed_path.is_not(None), Page.deleted.is_(False))
        .order_by(Page.id, Record.row_index, FieldValue.position)
    )
    if since is not None:
        query = query.where(FieldValue.edited_at >= since)
    if book_ids:
        query = query.where(Book.id.in_(book_ids))
    out = []
    for field, record, page, book, unit in session.execute(query):
        text = final_text(field).strip()
        if not text or field.bbox is None:
            continue
        out.append(ReviewedField(
            field_value_id=field.id, key=field.key, text=text, box=Box.from_list(field.bbox),
            row_height=float(record.bbox[3]), char_confidences=list(field.char_confidences or []),
            page_id=page.id, book_id=book.id, book_type=book.book_type, unit_id=unit.id, unit_name=unit.name,
            year=book.year_from, deskewed_path=page.deskewed_path or "",
        ))
    return out


def lines_from_database(
    session: Session, data_dir: Path, since: datetime | None = None, book_ids: list[int] | None = None
) -> tuple[list[LabelledLine], dict[str, int]]:
    """Labelled lines of every reviewed field, plus counts of skipped cells by reason."""
    by_page: dict[int, list[ReviewedField]] = defaultdict(list)
    for field in reviewed_fields(session, since, book_ids):
        by_page[field.page_id].append(field)
    lines: list[LabelledLine] = []
    skipped: Counter[str] = Counter()
    for page_id, fields in by_page.items():
        page_lines, page_skipped = reviewed_page_lines(data_dir, page_id, fields)
        lines.extend(page_lines)
        skipped.update(page_skipped)
    notes = {f"skipped_{reason}": count for reason, count in skipped.items()}
    notes["reviewed_fields"] = sum(len(f) for f in by_page.values())
    return lines, notes


def reviewed_page_lines(
    data_dir: Path, page_id: int, fields: list[ReviewedField]
) -> tuple[list[LabelledLine], Counter[str]]:
    """One page's reviewed fields cut from its deskewed image as labelled lines, plus skipped cells by reason."""
    skipped: Counter[str] = Counter()
    image = cv2.imread(str(data_dir / fields[0].deskewed_path), cv2.IMREAD_COLOR)
    if image is None:
        skipped["page_image_missing"] += len(fields)
        log.warning("Deskewed image of page %s is missing; %d fields skipped", page_id, len(fields))
        return [], skipped
    layout = get_book_type(fields[0].book_type).layout
    cells = cut_stored_cells(image, layout, [StoredCell(f.key, f.box, f.row_height) for f in fields])
    if cells is None:
        skipped["no_grid"] += len(fields)
        return [], skipped
    types = {c.key: c.field_type for c in layout.columns}
    lines: list[LabelledLine] = []
    for field, cell in zip(fields, cells, strict=True):
        if cell.is_empty:
            skipped["no_ink"] += 1
            continue
        texts = _texts_per_line(field, len(cell.lines))
        if texts is None:
            skipped["multiline_unaligned"] += 1
            continue
        for index, (line_image, text) in enumerate(zip(cell.lines, texts, strict=True)):
            lines.append(LabelledLine(
                image=line_image, text=text, page_key=f"db:page:{page_id}", source="db",
                field_type=types.get(field.key, "free_text"), field_key=field.key, book_id=field.book_id,
                unit_id=field.unit_id, unit_name=field.unit_name, year=field.year,
                field_value_id=field.field_value_id, line_index=index,
            ))
    return lines, skipped


def _texts_per_line(field: ReviewedField, line_count: int) -> list[str] | None:
    if line_count == 1:
        return [field.text]
    guesses = proposed_lines(field.char_confidences)
    if len(guesses) != line_count:
        return None
    return split_text_to_lines(field.text, guesses)
