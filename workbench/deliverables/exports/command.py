"""What `python -m workbench export --format zip|xlsx|pagexml` does (json stays in cli.py)."""

from __future__ import annotations

from pathlib import Path

from workbench.books import BookError
from workbench.context import Workbench
from workbench.deliverables.exports.import_layout import ImportLayoutError
from workbench.deliverables.exports.package import (
    ExportError,
    ExportResult,
    export_book_pagexml,
    export_book_xlsx,
    export_book_zip,
)
from workbench.deliverables.exports.records import UnapprovedRecordsError

FILE_FORMATS = ("zip", "xlsx", "pagexml")
# Errors whose message is meant for the person running the export.
EXPORT_ERRORS = (BookError, UnapprovedRecordsError, ExportError, ImportLayoutError)


def export_files(wb: Workbench, book_id: int, fmt: str, out: Path | None, include_unapproved: bool) -> ExportResult:
    with wb.sessions() as session:
        if fmt == "zip":
            return export_book_zip(session, wb.settings.data_dir, book_id, out, include_unapproved)
        if fmt == "xlsx":
            return export_book_xlsx(session, book_id, out, include_unapproved)
        if fmt == "pagexml":
            return export_book_pagexml(session, wb.settings.data_dir, book_id, out, include_unapproved)
    raise ValueError(f"unknown format '{fmt}' (available: json, {', '.join(FILE_FORMATS)})")
