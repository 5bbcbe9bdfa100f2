"""Deliverables for a signed-in supervisor (or admin): the scoped, audited entry points the app calls.

The export code (workbench/deliverables/exports) and the cross-check (workbench/crosscheck) run for the whole
database from the command line as the `@system` account. Here every entry point takes the acting
user, checks the role (SUPERVISORS) and that the book's unit is in the user's scope, then calls that
same code and records who did what to which book, in which format, with how many records.

Files are written with the exports' atomic writers into <data dir>/deliverables/book_<id>/, so a
failed or killed export leaves nothing under the final name, and a download re-checks the scope.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Book, Page, PageStatus, PopulationExtract, RecordStatus, User
from ocr.fields.text import strip_controls
from workbench.audit import record_event
from workbench.book_types import get_book_type
from workbench.books import BookError
from workbench.crosscheck.extract import ExtractError
from workbench.crosscheck.service import import_extract, run_crosscheck
from workbench.crosscheck.tracking import TrackingItem, tracking_list, write_tracking_xlsx
from workbench.deliverables.exports.atomic import atomic_file
from workbench.deliverables.exports.import_layout import ImportLayoutError
from workbench.deliverables.exports.naming import book_base_name
from workbench.deliverables.exports.package import (
    ExportError,
    ExportResult,
    export_book_pagexml,
    export_book_xlsx,
    export_book_zip,
)
from workbench.deliverables.exports.records import UnapprovedRecordsError
from workbench.errors import InvalidActionError, NotFoundError, ServiceError
from workbench.intake.contractor import list_books
from workbench.scope import SUPERVISORS, Scope, book_in_scope, load_scope

FORMATS = ("xlsx", "zip", "pagexml")  # DL Import Excel, ZIP of PDFs + Excel, PAGE XML (zipped folder)
TRACKING = "tracking"  # the cross-check tracking list (Excel)
DELIVERABLES_DIR = "deliverables"
MAX_EXTRACT_NAME = 120
Progress = Callable[[int, int], None]


class DeliverableError(ServiceError):
    """A deliverable cannot be produced as asked (unapproved records, a missing page image, a bad file)."""


@dataclass(frozen=True)
class DeliverableBook:
    """A book a supervisor may export, with what an export of it would hold."""

    id: int
    label: str  # "Khai sinh 2003 quyển 1"
    unit_name: str
    approved: int
    open_records: int  # neither approved nor rejected: an export needs "include unapproved" for them
    pages: int
    unfinished_pages: int  # queued, processing or failed


@dataclass(frozen=True)
class Deliverable:
    """A file written for a book, ready to download (its name only: `open_deliverable` finds it)."""

    book_id: int
    kind: str  # one of FORMATS or TRACKING
    file_name: str
    size_bytes: int
    records: int
    unapproved: int
    files: int  # entries inside (PDFs + Excel in a ZIP, XML + JPEG pairs for PAGE XML), 1 otherwise
    unfinished_pages: int = 0


@dataclass(frozen=True)
class ExtractInfo:
    id: int
    file_name: str
    rows: int
    imported_at: datetime


@dataclass(frozen=True)
class CrosscheckOutcome:
    book_id: int
    extract_id: int
    records: int
    people: int
    counts: dict[str, int] = field(default_factory=dict)  # CrosscheckStatus value -> people


def book_folder(data_dir: Path, book_id: int) -> Path:
    return data_dir / DELIVERABLES_DIR / f"book_{book_id:d}"


def _scoped_book(session: Session, user: User, book_id: int) -> tuple[Scope, Book]:
    scope = load_scope(session, user, SUPERVISORS)
    return scope, book_in_scope(session, scope, book_id)


def deliverable_books(session: Session, user: User) -> list[DeliverableBook]:
    """Books in the supervisor's units with their record counts (unit, book type, year, volume order)."""
    load_scope(session, user, SUPERVISORS)
    return [
        DeliverableBook(
            id=b.id, label=f"{get_book_type(b.book_type).short_label} {b.year:d} quyển {b.volume:d}",
            unit_name=b.unit_name,
            approved=b.records_by_status.get(RecordStatus.APPROVED, 0),
            open_records=b.records - b.records_by_status.get(RecordStatus.APPROVED, 0)
            - b.records_by_status.get(RecordStatus.REJECTED, 0),
            pages=b.pages, unfinished_pages=b.pages - b.pages_by_status.get("done", 0),
        )
        for b in list_books(session, user)
    ]


def _export_error(exc: Exception) -> DeliverableError:
    """The export code's errors, as a refusal the page shows in Vietnamese."""
    if isinstance(exc, UnapprovedRecordsError | ExportError):
        return DeliverableError(str(exc), exc.message_vi)
    if isinstance(exc, ImportLayoutError):
        return DeliverableError(str(exc), "Loại sổ này chưa có mẫu tệp Excel nhập liệu.")
    return DeliverableError(str(exc), "Không tìm thấy sổ.")


def export_deliverable(session: Session, user: User, data_dir: Path, book_id: int, fmt: str, *,
                       include_unapproved: bool = False, progress: Progress | None = None) -> Deliverable:
    """Write one deliverable of a book in the user's scope; audited as `export` on the book."""
    _, book = _scoped_book(session, user, book_id)
    if fmt not in FORMATS:
        raise InvalidActionError(f"Unknown export format '{fmt}'", "Định dạng xuất không hợp lệ.")
    folder = book_folder(data_dir, book.id)
    try:
        if fmt == "zip":
            result = export_book_zip(session, data_dir, book.id, _named(session, book.id, folder, ".zip"),
                                     include_unapproved, progress)
        elif fmt == "xlsx":
            result = export_book_xlsx(session, book.id, _named(session, book.id, folder, ".xlsx"),
                                      include_unapproved)
            if progress is not None:
                progress(1, 1)
        else:
            result = _pagexml_zip(session, data_dir, book.id, folder, include_unapproved, progress)
    except (BookError, UnapprovedRecordsError, ExportError, ImportLayoutError) as exc:
        raise _export_error(exc) from exc
    unfinished = _unfinished_pages(session, book.id)
    done = Deliverable(book.id, fmt, result.path.name, result.path.stat().st_size, result.records,
                       result.unapproved, len(result.files), unfinished)
    record_event(session, actor=user, entity_type="book", entity_id=book.id, action="export",
                 new={"format": fmt, "records": done.records, "unapproved": done.unapproved,
                      "files": done.files, "file": done.file_name, "include_unapproved": include_unapproved})
    return done


def _named(session: Session, book_id: int, folder: Path, suffix: str) -> Path:
    """The export's documented name (README "Export file names") inside the book's folder; read from
    the book row alone (load_export_book would load every record just for a name)."""
    book = session.get(Book, book_id)
    if book is None:
        raise BookError(f"No book {book_id}")
    unit_code = strip_controls(book.unit.code) if book.unit.code else None
    base = book_base_name(book.book_type, strip_controls(book.unit.name), unit_code, book.year_from, book.volume)
    return folder / f"{base}{suffix}"


def _unfinished_pages(session: Session, book_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Page).where(
        Page.book_id == book_id, Page.deleted.is_(False), Page.status != PageStatus.DONE)) or 0)


def _pagexml_zip(session: Session, data_dir: Path, book_id: int, folder: Path, include_unapproved: bool,
                 progress: Progress | None) -> ExportResult:
    """PAGE XML is a folder (XML + JPEG per page); a browser downloads one file, so it is zipped.

    The folder is built by export_book_pagexml (atomic) in a private temporary place, then copied
    file by file into an atomically written ZIP: one page's image in memory at a time."""
    target = _named(session, book_id, folder, "_pagexml.zip")
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder, prefix=".pagexml.", suffix=".tmp"))
    try:
        result = export_book_pagexml(session, data_dir, book_id, work / target.stem, include_unapproved, progress)
        with atomic_file(target) as handle, zipfile.ZipFile(handle, "w") as archive:
            for name in result.files:
                kind = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
                archive.write(result.path / name, arcname=f"{target.stem}/{name}", compress_type=kind)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result.path = target
    return result


def open_deliverable(session: Session, user: User, data_dir: Path, book_id: int, file_name: str) -> Path:
    """The path of a file written for the book, for a user whose scope covers it; audited as `download`."""
    _, book = _scoped_book(session, user, book_id)
    folder = book_folder(data_dir, book.id)
    path = folder / file_name
    # Only a plain name of a file in the book's own folder: no "..", no other book's file.
    if Path(file_name).name != file_name or file_name.startswith(".") or not path.is_file():
        raise NotFoundError(f"No deliverable '{file_name}' for book {book.id}", "Không tìm thấy tệp đã xuất.")
    record_event(session, actor=user, entity_type="book", entity_id=book.id, action="download",
                 new={"file": file_name, "bytes": path.stat().st_size})
    return path


def record_failure(session: Session, user: User, book_id: int, kind: str, reason: str) -> None:
    """An export or cross-check that failed after it started is audited too (its own transaction)."""
    _scoped_book(session, user, book_id)
    record_event(session, actor=user, entity_type="book", entity_id=book_id, action=f"{_action(kind)}_failed",
                 new={"format": kind, "reason": reason})


def _action(kind: str) -> str:
    return "crosscheck" if kind == "crosscheck" else "export"


def population_extracts(session: Session, user: User) -> list[ExtractInfo]:
    """Imported population-database extracts, newest first (they cover people, not units)."""
    load_scope(session, user, SUPERVISORS)
    rows = session.scalars(select(PopulationExtract).order_by(PopulationExtract.id.desc()))
    return [ExtractInfo(e.id, e.original_name, e.row_count, e.imported_at) for e in rows]


def import_population_extract(session: Session, user: User, data_dir: Path, file_name: str,
                              data: bytes) -> ExtractInfo:
    """Validate and store an uploaded extract (all or nothing, see crosscheck/extract.py); audited
    by import_extract as `import` with this user."""
    scope = load_scope(session, user, SUPERVISORS)
    name = strip_controls(Path(file_name.replace("\\", "/")).name).strip()[-MAX_EXTRACT_NAME:] or "trich_xuat.csv"
    if name.startswith("."):
        name = f"trich_xuat{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=data_dir, prefix=".extract.", suffix=".tmp"))
    try:
        path = work / name
        path.write_bytes(data)
        try:
            extract = import_extract(session, data_dir, path, actor=scope.user)
        except ExtractError as exc:
            raise DeliverableError(str(exc), exc.message_vi) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExtractInfo(extract.id, extract.original_name, extract.row_count, extract.imported_at)


def run_book_crosscheck(session: Session, user: User, data_dir: Path, extract_id: int, book_id: int,
                        progress: Progress | None = None) -> CrosscheckOutcome:
    """Match the book's approved records against an extract; audited as `crosscheck` on the book."""
    scope, book = _scoped_book(session, user, book_id)
    try:
        summary = run_crosscheck(session, data_dir, extract_id, [book.id], progress=progress, actor=scope.user)
    except ExtractError as exc:
        raise DeliverableError(str(exc), exc.message_vi) from exc
    outcome = CrosscheckOutcome(book.id, extract_id, summary.records, summary.people, dict(summary.counts))
    record_event(session, actor=scope.user, entity_type="book", entity_id=book.id, action="crosscheck",
                 new={"extract_id": extract_id, "records": outcome.records, "people": outcome.people,
                      "counts": outcome.counts})
    return outcome


def book_tracking_list(session: Session, user: User, book_id: int,
                       include_resolved: bool = False) -> list[TrackingItem]:
    """The book's people found but different (or ambiguous) in the population database."""
    _, book = _scoped_book(session, user, book_id)
    return tracking_list(session, book_ids=[book.id], include_resolved=include_resolved)


def export_tracking_list(session: Session, user: User, data_dir: Path, book_id: int,
                         include_resolved: bool = False) -> Deliverable:
    """The book's tracking list as Excel in its deliverables folder; audited as `export` (tracking)."""
    _, book = _scoped_book(session, user, book_id)
    items = tracking_list(session, book_ids=[book.id], include_resolved=include_resolved)
    target = _named(session, book.id, book_folder(data_dir, book.id), "_theo_doi.xlsx")
    with atomic_file(target) as handle:
        write_tracking_xlsx(items, handle)
    done = Deliverable(book.id, TRACKING, target.name, target.stat().st_size, len({i.record_id for i in items}),
                       0, 1)
    record_event(session, actor=user, entity_type="book", entity_id=book.id, action="export",
                 new={"format": TRACKING, "records": done.records, "people": len(items), "file": done.file_name})
    return done
