"""The book JSON export (shape stable since the foundation issue; `pages` added by issue #13)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import FieldStatus, Page, Record
from ocr.page_warnings import decode_warnings
from workbench.book_types import get_book_type
from workbench.books import get_book
from workbench.ui.labels import page_warning_vi


def book_header(session: Session, book_id: int) -> dict[str, Any]:
    book = get_book(session, book_id)
    return {
        "id": book.id,
        "book_type": book.book_type,
        "unit": book.unit.name,
        "year": book.year_from,
        "volume": book.volume,
    }


def export_book_json(session: Session, book_id: int) -> dict[str, Any]:
    header = book_header(session, book_id)
    keys = get_book_type(header["book_type"]).keys
    rows = session.execute(
        select(Record, Page)
        .join(Page, Record.page_id == Page.id)
        .where(Record.book_id == book_id, Page.deleted.is_(False))
        .order_by(Page.page_index, Record.row_index)
        .options(selectinload(Record.fields))
    ).all()
    records = []
    for record, page in rows:
        stored = record.field_map()
        fields: dict[str, dict[str, Any]] = {}
        for key in keys:
            value = stored.get(key)
            fields[key] = {
                "value": value.proposed_value if value else "",
                "confidence": round(value.confidence, 4) if value else 0.0,
                "final": value.final_value if value else None,
                "status": value.status if value else str(FieldStatus.PROPOSED),
            }
        records.append(
            {
                "page_file": page.original_name,
                "page_index": page.page_index,
                "row_index": record.row_index,
                "status": record.status,
                "fields": fields,
            }
        )
    return {"book": header, "pages": export_pages(session, book_id), "records": records}


def export_pages(session: Session, book_id: int) -> list[dict[str, Any]]:
    """Every live page in page order with its warnings as {code, message}; a stored warning with
    no text (``grid_rulings``, the normal case) is not a warning and is left out, as in the UI."""
    pages = session.scalars(
        select(Page).where(Page.book_id == book_id, Page.deleted.is_(False)).order_by(Page.page_index)
    )
    return [
        {
            "file": page.original_name,
            "index": page.page_index,
            "status": page.status,
            "warnings": [
                {"code": warning.code, "message": message}
                for warning in decode_warnings(page.warnings)
                if (message := page_warning_vi(warning))
            ],
        }
        for page in pages
    ]
