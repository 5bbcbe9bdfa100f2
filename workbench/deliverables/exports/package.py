"""Book deliverables: per-registration PDFs + Excel import file in one ZIP, the Excel alone, PAGE XML."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy.orm import Session

from ocr.types import ColumnSpec
from workbench.book_types import get_book_type
from workbench.crosscheck.service import matched_person_ids
from workbench.deliverables.exports.atomic import TargetOccupiedError, atomic_file, atomic_folder
from workbench.deliverables.exports.naming import UniqueNamer, book_base_name, registration_stem
from workbench.deliverables.exports.pagexml import page_xml
from workbench.deliverables.exports.pdf import header_band, record_pdf
from workbench.deliverables.exports.records import ExportBook, ExportPage, load_export_book
from workbench.deliverables.exports.xlsx import write_import_xlsx
from workbench.errors import ServiceError

EXPORT_FORMATS = ("json", "zip", "xlsx", "pagexml")
# progress(done, total): called as the work advances (the app's progress bar); the CLI passes none.
Progress = Callable[[int, int], None]


class ExportError(ServiceError):
    """A deliverable cannot be produced (e.g. a page image is missing from the data directory)."""


@dataclass
class ExportResult:
    path: Path
    files: list[str] = field(default_factory=list)  # names written (inside the ZIP for zip)
    records: int = 0
    unapproved: int = 0
    warnings: list[str] = field(default_factory=list)


def book_file_base(book: ExportBook) -> str:
    return book_base_name(book.book_type, book.unit_name, book.unit_code, book.year, book.volume)


def default_output_path(book: ExportBook, fmt: str, directory: Path = Path("exports")) -> Path:
    suffix = {"zip": ".zip", "xlsx": ".xlsx", "json": ".json", "pagexml": "_pagexml"}[fmt]
    return directory / f"{book_file_base(book)}{suffix}"


def _warnings(book: ExportBook) -> list[str]:
    notes = []
    if book.unfinished_pages:
        notes.append(f"{book.unfinished_pages} page(s) of book {book.book_id} are not processed (queued or "
                     "failed); their registrations are missing from this export")
    return notes


def _page_rgb(data_dir: Path, page: ExportPage) -> np.ndarray:
    path = data_dir / page.deskewed_path if page.deskewed_path else None
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path else None
    if image is None:
        raise ExportError(
            f"Page {page.page_index} ({page.original_name}) has no readable deskewed image in the data directory",
            f"Trang {page.page_index} ({page.original_name}) không có ảnh đã nắn thẳng đọc được trong thư mục dữ liệu",
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def record_pdfs(book: ExportBook, data_dir: Path) -> Iterator[tuple[str, bytes]]:
    """(file name, PDF bytes) for every exported registration, in book order."""
    namer = UniqueNamer()
    base = book_file_base(book)
    for page in book.pages:
        if not page.records:
            continue
        rgb = _page_rgb(data_dir, page)
        header = header_band([r.bbox for r in page.records], page.header_bbox)
        for record in page.records:
            stem = registration_stem(base, page.page_index, record.value("registration_no"), record.row_index,
                                     record.approved)
            yield namer.name(stem, ".pdf"), record_pdf(rgb, record.bbox, header).data


def export_book_zip(session: Session, data_dir: Path, book_id: int, out: Path | None = None,
                    include_unapproved: bool = False, progress: Progress | None = None) -> ExportResult:
    """One ZIP: a PDF per registration and the book's Excel import file. Written atomically.

    progress: (files written, files in all), the PDFs then the Excel file."""
    book = load_export_book(session, book_id, include_unapproved)
    out = out or default_output_path(book, "zip")
    person_ids = matched_person_ids(session, [r.record_id for r in book.records])
    result = ExportResult(out, records=len(book.records), unapproved=sum(not r.approved for r in book.records),
                          warnings=_warnings(book))
    total = len(book.records) + 1
    with atomic_file(out) as handle, zipfile.ZipFile(handle, "w") as archive:
        for name, pdf in record_pdfs(book, data_dir):
            archive.writestr(name, pdf, compress_type=zipfile.ZIP_STORED)  # JPEG inside: no gain
            result.files.append(name)
            if progress is not None:
                progress(len(result.files), total)
        xlsx = io.BytesIO()
        write_import_xlsx(book, xlsx, person_ids)
        xlsx_name = f"{book_file_base(book)}.xlsx"
        archive.writestr(xlsx_name, xlsx.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
        result.files.append(xlsx_name)
    if progress is not None:
        progress(total, total)
    return result


def export_book_xlsx(session: Session, book_id: int, out: Path | None = None,
                     include_unapproved: bool = False) -> ExportResult:
    book = load_export_book(session, book_id, include_unapproved)
    out = out or default_output_path(book, "xlsx")
    person_ids = matched_person_ids(session, [r.record_id for r in book.records])
    with atomic_file(out) as handle:
        rows = write_import_xlsx(book, handle, person_ids)
    return ExportResult(out, [out.name], rows, sum(not r.approved for r in book.records), _warnings(book))


def export_book_pagexml(session: Session, data_dir: Path, book_id: int, out_dir: Path | None = None,
                        include_unapproved: bool = False, progress: Progress | None = None) -> ExportResult:
    """Per processed page, <book>_P<page>.xml and the deskewed image it describes, <book>_P<page>.jpg.

    HTR tools (Transkribus, eScriptorium) import such a folder as is: imageFilename names the JPEG.
    progress: (pages done, pages in all).
    """
    book = load_export_book(session, book_id, include_unapproved)
    out_dir = out_dir or default_output_path(book, "pagexml")
    columns = get_book_type(book.book_type).columns
    result = ExportResult(out_dir, records=len(book.records), warnings=_warnings(book),
                          unapproved=sum(not r.approved for r in book.records))
    # Built in a temporary folder renamed at the end: a failure or a kill leaves no partial folder.
    earlier_export = re.compile(rf"{re.escape(book_file_base(book))}_P\d{{3,}}\.(xml|jpg)")
    try:
        with atomic_folder(out_dir, lambda p: p.is_file() and earlier_export.fullmatch(p.name) is not None) as tmp:
            for number, page in enumerate(book.pages, start=1):
                result.files += _write_page_files(book, page, columns, data_dir, tmp)
                if progress is not None:
                    progress(number, len(book.pages))
    except TargetOccupiedError as exc:
        raise ExportError(
            f"{out_dir} already exists and holds other files; choose a new folder",
            f"Thư mục {out_dir.name} đã có và chứa tệp khác; hãy chọn thư mục mới",
        ) from exc
    return result


def _write_page_files(book: ExportBook, page: ExportPage, columns: tuple[ColumnSpec, ...], data_dir: Path,
                      folder: Path) -> list[str]:
    """<book>_P<page>.xml and .jpg of one processed page; nothing for a page never processed."""
    if not page.width or not page.height or not page.deskewed_path:
        return []
    stem = f"{book_file_base(book)}_P{page.page_index:03d}"
    try:
        image = (data_dir / page.deskewed_path).read_bytes()
    except OSError as exc:
        raise ExportError(
            f"Page {page.page_index} ({page.original_name}) has no readable deskewed image: {exc}",
            f"Trang {page.page_index} ({page.original_name}) không có ảnh đã nắn thẳng đọc được",
        ) from exc
    (folder / f"{stem}.jpg").write_bytes(image)
    (folder / f"{stem}.xml").write_bytes(page_xml(book, page, columns, image_filename=f"{stem}.jpg"))
    return [f"{stem}.xml", f"{stem}.jpg"]
