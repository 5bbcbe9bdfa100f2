"""The book's Excel file in the civil-registry software's import layout (sheet "DL Import")."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font

from workbench.deliverables.exports.cells import append_row
from workbench.deliverables.exports.import_layout import (
    REMARKS_FIELD,
    ImportColumn,
    ImportLayout,
    code_tables,
    import_layout,
)
from workbench.deliverables.exports.records import ExportBook, ExportRecord

UNAPPROVED_NOTE = "[CHƯA DUYỆT]"
CODES_SHEET = "Ghi chu"

# (record id, cross-check role) -> matched personal ID number
PersonIds = dict[tuple[int, str], str]


def _remarks(record: ExportRecord) -> str:
    notes = record.value(REMARKS_FIELD)
    if record.approved:
        return notes
    return f"{UNAPPROVED_NOTE} {notes}".strip()


def cell_value(column: ImportColumn, record: ExportRecord, row_number: int, book: ExportBook,
               person_ids: PersonIds) -> Any:
    """One cell: numbers for counters and codes, text exactly as the officials keyed it otherwise."""
    if column.meta == "row_number":
        return row_number
    if column.meta == "volume":
        return book.volume
    if column.meta == "page_index":
        return record.page_index
    if column.meta == "unit_name":
        return book.unit_name
    if column.meta == "remarks":
        return _remarks(record)
    if column.const is not None:
        return column.const
    if column.person_id is not None:
        return person_ids.get((record.record_id, column.person_id), "")
    if column.field is not None:
        value = record.value(column.field)
        return code_tables()[column.code].code(value) if column.code else value
    return ""


def import_rows(book: ExportBook, layout: ImportLayout, person_ids: PersonIds | None = None) -> list[list[Any]]:
    ids = person_ids or {}
    return [
        [cell_value(c, record, n, book, ids) for c in layout.columns]
        for n, record in enumerate(book.records, start=1)
    ]


def write_import_xlsx(book: ExportBook, target: Path | IO[bytes], person_ids: PersonIds | None = None) -> int:
    """Write the import file; returns the number of registration rows."""
    layout = import_layout(book.book_type)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = layout.sheet
    append_row(sheet, layout.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = import_rows(book, layout, person_ids)
    for row in rows:
        # Absent data = a truly empty cell. Text cells stay text (append_row): "05/03/1998" or "012"
        # must not become Excel dates or numbers, nor "=..." a formula.
        append_row(sheet, [None if v == "" else v for v in row])
    sheet.freeze_panes = "A2"
    _write_code_sheet(workbook)
    workbook.save(target)
    return len(rows)


def _write_code_sheet(workbook: Workbook) -> None:
    sheet = workbook.create_sheet(CODES_SHEET)
    append_row(sheet, ["Bảng mã", "Mã", "Giá trị"])
    for table in code_tables().values():
        for code, label in sorted(table.labels.items()):
            append_row(sheet, [table.label, code, label])
