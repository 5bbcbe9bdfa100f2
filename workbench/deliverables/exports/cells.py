"""Writing spreadsheet cells that nobody can turn into formulas: every workbook the project writes
goes through here (the import file, the tracking list, the progress report).

Officials' values, population-extract values, unit and user names reach Excel cells. openpyxl makes
any text starting with "=" a live formula (and "#N/A" an error value), so a value such as
=HYPERLINK(...) or =cmd|'/c calc'!A1 would run on a supervisor's machine (OWASP "CSV injection").
Text is therefore written as a string cell explicitly, in the text number format so that editing
the cell in Excel keeps it text, and without control characters (openpyxl refuses them, and one
would block a whole export). The value itself is not altered otherwise (no leading quote): the
import file must carry names and numbers exactly as keyed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from ocr.fields.text import strip_controls

TEXT_FORMAT = "@"
# What a cell may hold besides text: numbers and dates are written by the program, never typed.
CellValue = str | int | float | Decimal | bool | date | datetime | time | None


def safe_cell_value(value: object) -> CellValue:
    """The value as a cell may hold it: text without control characters; numbers, dates, None as is;
    anything else as its text."""
    if value is None or isinstance(value, int | float | Decimal | bool | date | datetime | time):
        return value  # type: ignore[return-value]  # bool/date are covered by the union
    return strip_controls(str(value))


def _keep_text(cell: Cell) -> None:
    if isinstance(cell.value, str):
        # After the value: openpyxl's value setter chose "f" (formula) for "=..." and "e" for "#N/A".
        cell.data_type = "s"
        cell.number_format = TEXT_FORMAT


def write_cell(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """Put a value into a cell; text stays text whatever it starts with."""
    cell = sheet.cell(row=row, column=column)
    cell.value = safe_cell_value(value)
    _keep_text(cell)
    return cell


def append_row(sheet: Worksheet, values: Iterable[object]) -> int:
    """sheet.append, with text kept text; returns the new row's number."""
    sheet.append([safe_cell_value(v) for v in values])
    row = sheet.max_row
    for cell in sheet[row]:
        _keep_text(cell)
    return row
