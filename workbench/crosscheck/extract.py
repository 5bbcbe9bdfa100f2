"""Reading a population-database extract (CSV or Excel) into compact columns, all-or-nothing.

Columns (header row 1, any order; Vietnamese or English names, case/accent-blind):

| column      | accepted headers                                           | required |
|-------------|------------------------------------------------------------|----------|
| id_number   | id_number, so_dinh_danh, Số định danh cá nhân, CCCD        | yes: 12 digits, unique |
| full_name   | full_name, ho_ten, Họ và tên                               | yes: non-empty |
| birth_date  | birth_date, ngay_sinh, Ngày sinh                           | yes: dd/mm/yyyy, yyyy-mm-dd, yyyy, empty |
| sex         | sex, gioi_tinh, Giới tính                                  | no: Nam / Nữ |
| father_name | father_name, ho_ten_cha, Họ và tên cha                     | no |
| mother_name | mother_name, ho_ten_me, Họ và tên mẹ                       | no |
| residence   | residence, noi_cu_tru, noi_thuong_tru, Nơi cư trú, dia_chi | no |

CSV must be UTF-8 (a BOM is fine), comma or semicolon separated. Any bad row rejects the whole
file with the first offending line numbers, so nothing is ever imported half-done.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocr.fields.catalogs import canonical_sex
from ocr.fields.text import fold_key_accentless, strip_controls
from workbench.crosscheck.normalize import parse_packed
from workbench.errors import ServiceError

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id_number": ("id_number", "so_dinh_danh", "so_dinh_danh_ca_nhan", "Số định danh cá nhân", "Số định danh",
                  "cccd", "so_cccd"),
    "full_name": ("full_name", "ho_ten", "ho_va_ten", "Họ và tên", "Họ tên"),
    "birth_date": ("birth_date", "ngay_sinh", "Ngày sinh", "Ngày, tháng, năm sinh"),
    "sex": ("sex", "gioi_tinh", "Giới tính"),
    "father_name": ("father_name", "ho_ten_cha", "Họ và tên cha", "Họ tên cha"),
    "mother_name": ("mother_name", "ho_ten_me", "Họ và tên mẹ", "Họ tên mẹ"),
    "residence": ("residence", "noi_cu_tru", "noi_thuong_tru", "Nơi cư trú", "Nơi thường trú", "dia_chi", "Địa chỉ"),
}
REQUIRED = ("id_number", "full_name", "birth_date")
MAX_REPORTED = 5
SUFFIXES = (".csv", ".xlsx")


class ExtractError(ServiceError):
    """The extract cannot be imported; nothing was imported."""


@dataclass
class CitizenTable:
    """Column-oriented rows (about 1.5 million for a province: no per-row objects)."""

    id_number: list[str] = field(default_factory=list)
    full_name: list[str] = field(default_factory=list)
    birth: list[int] = field(default_factory=list)  # packed partial date, see normalize.py
    birth_text: list[str] = field(default_factory=list)
    sex: list[str] = field(default_factory=list)  # "Nam" / "Nữ" / ""
    father_name: list[str] = field(default_factory=list)
    mother_name: list[str] = field(default_factory=list)
    residence: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.id_number)

    def row(self, i: int) -> dict[str, str]:
        return {
            "id_number": self.id_number[i], "full_name": self.full_name[i], "birth_date": self.birth_text[i],
            "sex": self.sex[i], "father_name": self.father_name[i], "mother_name": self.mother_name[i],
            "residence": self.residence[i],
        }


_HEADER_LOOKUP = {fold_key_accentless(alias): column for column, aliases in COLUMN_ALIASES.items()
                  for alias in aliases}


def map_header(header: list[str]) -> dict[str, int]:
    """Our column -> position in the file; raises ExtractError when a required column is missing."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _HEADER_LOOKUP.get(fold_key_accentless(str(name or "")))
        if column and column not in positions:
            positions[column] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        found = ", ".join(str(h) for h in header if str(h or "").strip()) or "(none)"
        raise ExtractError(
            f"The extract lacks required column(s) {', '.join(missing)}; header found: {found}. "
            "See the extract format in the README.",
            f"Tệp trích xuất thiếu cột bắt buộc: {', '.join(missing)}. Tiêu đề đọc được: {found}.",
        )
    return positions


def _text(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():
        text = strip_controls(text)  # dropped: they would be stored and then block exports
    text = " ".join(text.split())
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _cell(text: str) -> str:
    """A CSV cell trimmed; control characters (a quoted line break too) never reach the stored table.
    isprintable() is one C pass that is true for every ordinary cell, Vietnamese letters included."""
    return text.strip() if text.isprintable() else strip_controls(text).strip()


OPTIONAL = ("sex", "father_name", "mother_name", "residence")


class _Collector:
    """Validates rows into a CitizenTable, remembering the first errors by line number.

    Written for ~1.5 M rows: plain loops, no per-row objects, and memo tables for the values a
    province repeats endlessly (birth dates, sex).
    """

    def __init__(self, positions: dict[str, int]) -> None:
        self.id_at, self.name_at, self.birth_at = (positions[c] for c in REQUIRED)
        self.optional_at = [positions.get(c) for c in OPTIONAL]
        self.width = max(positions.values()) + 1
        self.table = CitizenTable()
        self.errors: list[str] = []
        self.error_count = 0
        self.seen: dict[str, int] = {}  # ID number -> the line it was first seen on
        self._dates: dict[str, int | None] = {}
        self._sexes: dict[str, str] = {}

    def _error(self, line: int, what: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(f"line {line}: {what}")

    def add(self, line: int, row: list[str]) -> None:
        """One row of text cells (the Excel reader converts its cells to text first)."""
        if len(row) < self.width:
            if not any(v.strip() for v in row):
                return  # blank line
            row = row + [""] * (self.width - len(row))
        # Only the ends are trimmed: names are compared through accent/space-blind keys, and shown as written.
        id_number = _cell(row[self.id_at])
        name = _cell(row[self.name_at])
        birth_text = _cell(row[self.birth_at])
        if not id_number and not name and not birth_text and not any(v.strip() for v in row):
            return  # blank line
        if len(id_number) != 12 or not (id_number.isascii() and id_number.isdigit()):
            # Values stay out of the message: it reaches logs and the screen (personal data).
            return self._error(line, f"personal ID number is not 12 digits ({len(id_number)} characters)")
        if id_number in self.seen:
            return self._error(line, f"personal ID number appears twice (first on line {self.seen[id_number]})")
        if not name:
            return self._error(line, "full name is empty")
        birth = self._dates.get(birth_text, -1)
        if birth == -1:
            birth = self._dates[birth_text] = parse_packed(birth_text)
        if birth is None:
            return self._error(line, "birth date is not a date (dd/mm/yyyy, yyyy-mm-dd, mm/yyyy or yyyy)")
        self.seen[id_number] = line
        sex_at, father_at, mother_at, residence_at = self.optional_at
        sex_text = _cell(row[sex_at]) if sex_at is not None else ""
        sex = self._sexes.get(sex_text)
        if sex is None:
            sex = self._sexes[sex_text] = canonical_sex(sex_text) or ""
        table = self.table
        table.id_number.append(id_number)
        table.full_name.append(name)
        table.birth.append(birth)
        table.birth_text.append(birth_text)
        table.sex.append(sex)
        table.father_name.append(_cell(row[father_at]) if father_at is not None else "")
        table.mother_name.append(_cell(row[mother_at]) if mother_at is not None else "")
        table.residence.append(_cell(row[residence_at]) if residence_at is not None else "")

    def result(self, name: str) -> CitizenTable:
        if self.error_count:
            listed = "; ".join(self.errors)
            raise ExtractError(
                f"{name}: {self.error_count} invalid row(s), nothing imported ({listed})",
                f"{name}: {self.error_count} dòng không hợp lệ, chưa nhập dòng nào ({listed})",
            )
        if not len(self.table):
            raise ExtractError(f"{name}: the extract has no citizen rows", f"{name}: tệp trích xuất không có dòng nào")
        return self.table


def _read_csv(data: bytes, name: str) -> CitizenTable:
    if data.startswith(b"PK\x03\x04"):
        raise ExtractError(f"{name} is an Excel workbook (or another ZIP) named .csv; upload it as .xlsx "
                           "or save it as CSV UTF-8",
                           f"{name} là tệp Excel (hoặc ZIP) mang đuôi .csv; hãy tải lên dạng .xlsx "
                           "hoặc lưu lại dạng CSV UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(f"{name} is not UTF-8 text (save the CSV as UTF-8): {exc}",
                           f"{name} không phải văn bản UTF-8 (hãy lưu CSV dạng UTF-8)") from exc
    if not text.isascii():
        # Decomposed (NFD) names are stored composed, as the book's values are; one pass over the file.
        text = unicodedata.normalize("NFC", text)
    if "\x00" in text[:4096]:
        raise ExtractError(f"{name} is a binary file, not a CSV extract", f"{name} là tệp nhị phân, không phải CSV")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ExtractError(f"{name} is empty", f"{name} trống") from None
    collector = _Collector(map_header(header))
    try:
        for line, row in enumerate(reader, start=2):
            collector.add(line, row)
    except csv.Error as exc:
        raise ExtractError(f"{name}: malformed CSV ({exc})", f"{name}: CSV sai định dạng ({exc})") from exc
    return collector.result(name)


def _read_xlsx(data: bytes, name: str) -> CitizenTable:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = f"{name} is not a readable Excel (.xlsx) file"
    unreadable_vi = f"{name} không phải tệp Excel (.xlsx) đọc được"
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ExtractError(f"{unreadable}: {exc}", unreadable_vi) from exc
    except Exception as exc:  # noqa: BLE001 — a damaged workbook fails deep inside openpyxl/zlib/XML
        raise ExtractError(f"{unreadable} (damaged: {type(exc).__name__}: {exc})", unreadable_vi) from exc
    try:
        return _collect_xlsx_rows(workbook, name)
    except ExtractError:
        raise
    except Exception as exc:  # noqa: BLE001 — rows are streamed, so damage may surface only here
        raise ExtractError(f"{unreadable} (damaged: {type(exc).__name__}: {exc})", unreadable_vi) from exc
    finally:
        workbook.close()


def _collect_xlsx_rows(workbook: Any, name: str) -> CitizenTable:
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ExtractError(f"{name} is empty", f"{name} trống")
    positions = map_header([_text(h) for h in header])
    collector = _Collector(positions)
    id_column = positions["id_number"]
    for line, row in enumerate(rows, start=2):
        values = [_excel_text(v) for v in row]
        if id_column < len(row) and isinstance(row[id_column], int | float):
            values[id_column] = f"{int(row[id_column]):012d}"  # a number cell lost the leading zeros
        collector.add(line, values)
    return collector.result(name)


def _excel_text(value: object) -> str:
    # Excel turns IDs into numbers and dates into datetimes; bring both back to text.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")  # type: ignore[union-attr]
    return _text(value)


def read_extract(data: bytes, name: str) -> CitizenTable:
    """Parse and validate a whole extract; raises ExtractError (English + message_vi) on any problem."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _read_csv(data, name)
    if suffix == ".xlsx":
        return _read_xlsx(data, name)
    raise ExtractError(
        f"{name}: unsupported extract type '{suffix or '(none)'}'; expected one of {', '.join(SUFFIXES)}",
        f"{name}: loại tệp '{suffix or '(không có)'}' không được hỗ trợ; cần {', '.join(SUFFIXES)}",
    )
