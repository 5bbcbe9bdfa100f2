"""Contractors' work on books and pages: create a book, watch its pages, re-run or soft-delete a page,
and correct a page's segmentation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from models import User


@dataclass(frozen=True)
class BookSummary:
    id: int
    unit_id: int
    unit_name: str
    book_type: str
    type_label: str
    year: int
    year_to: int | None
    volume: int
    declared_count: int | None
    pages: int  # live (not deleted) pages
    pages_by_status: dict[str, int]  # queued / processing / done / failed
    records: int
    records_by_status: dict[str, int]


@dataclass(frozen=True)
class PageSummary:
    id: int
    page_index: int
    original_name: str
    status: str
    deleted: bool
    deskew_angle: float | None
    warnings: tuple[str, ...]  # QA codes from the pipeline (blank, rotated_90, duplicate, ...)
    error: str | None
    rows_found: int
    rows_expected: int | None  # from the page's grid when the pipeline reports it, else None
    image_path: str  # deskewed if available, else the original (relative to the data dir)
    processed_at: datetime | None
    has_human_work: bool  # some record was reviewed: re-running would discard it


def create_book(session: Session, user: User, *, unit_id: int, book_type: str, year: int, volume: int = 1,
                declared_count: int | None = None, year_to: int | None = None) -> int:
    """Create a book in a unit of the user's scope; raises InvalidActionError if it already exists."""
    raise NotImplementedError


def list_books(session: Session, user: User) -> list[BookSummary]:
    """Books in the user's scope (any role), by unit, type priority, year, volume."""
    raise NotImplementedError


def list_pages(session: Session, user: User, book_id: int, include_deleted: bool = False) -> list[PageSummary]:
    raise NotImplementedError


def rerun_page(session: Session, user: User, page_id: int, *, force: bool = False) -> None:
    """Put a page back to `queued` so the resumable ingest pass re-processes it
    (`workbench.ingest.ingest_files(factory, data_dir, [], book_id=...)`). Refuses when officials
    already worked on its records unless force=True (their work would be replaced)."""
    raise NotImplementedError


def delete_page(session: Session, user: User, page_id: int, reason: str) -> None:
    """Soft-delete a bad page: hidden from queues and exports, audited, claims released."""
    raise NotImplementedError


def restore_page(session: Session, user: User, page_id: int) -> None:
    raise NotImplementedError


def correct_segmentation(session: Session, user: User, page_id: int, *, row_lines: list[int],
                         column_lines: list[int], data_dir: Path, recognizer: object | None = None) -> int:
    """Replace the page's grid with the given line positions (deskewed-page pixels): rebuild record and
    cell boxes, re-recognise the cells. Returns the number of records."""
    raise NotImplementedError
