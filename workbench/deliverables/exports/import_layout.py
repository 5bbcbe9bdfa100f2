"""The civil-registry import layouts: data files in workbench/deliverables/import_layouts/ (see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ocr.fields.text import fold_key_accentless
from workbench.book_types import get_book_type

LAYOUTS_DIR = Path(__file__).resolve().parent.parent / "import_layouts"
META_SOURCES = ("row_number", "volume", "page_index", "unit_name", "remarks")
REMARKS_FIELD = "notes"


class ImportLayoutError(ValueError):
    """A layout or code file is missing or malformed."""


@dataclass(frozen=True)
class CodeTable:
    name: str
    label: str
    codes: dict[str, int]  # accent-folded value -> code
    labels: dict[int, str]  # code -> label as written in the file
    default: int | None

    def code(self, value: str) -> int | None:
        if not value.strip():
            return None
        return self.codes.get(fold_key_accentless(value), self.default)


@dataclass(frozen=True)
class ImportColumn:
    name: str
    field: str | None = None
    code: str | None = None
    const: Any = None
    meta: str | None = None
    person_id: str | None = None  # cross-check role whose matched ID number fills the column


@dataclass(frozen=True)
class ImportLayout:
    book_type: str
    sheet: str
    columns: tuple[ImportColumn, ...]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImportLayoutError(f"Import layout file {path.name} cannot be read: {exc}") from exc


@cache
def code_tables() -> dict[str, CodeTable]:
    raw = _read_yaml(LAYOUTS_DIR / "codes.yaml")
    tables = {}
    try:
        for name, spec in raw.items():
            values = {str(k): int(v) for k, v in spec["values"].items()}
            tables[name] = CodeTable(
                name=name, label=str(spec.get("label", name)),
                codes={fold_key_accentless(k): v for k, v in values.items()},
                labels={v: k for k, v in values.items()},
                default=None if spec.get("default") is None else int(spec["default"]),
            )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ImportLayoutError(f"codes.yaml is malformed: {exc}") from exc
    return tables


def _column(entry: Any, keys: set[str], tables: dict[str, CodeTable], source: str) -> ImportColumn:
    if isinstance(entry, str):
        return ImportColumn(name=entry)
    if not isinstance(entry, dict) or "name" not in entry:
        raise ImportLayoutError(f"{source}: column entry {entry!r} needs a name")
    column = ImportColumn(
        name=str(entry["name"]), field=entry.get("field"), code=entry.get("code"), const=entry.get("const"),
        meta=entry.get("meta"), person_id=entry.get("person_id"),
    )
    sources = [s for s in (column.field, column.const, column.meta, column.person_id) if s is not None]
    if len(sources) > 1:
        raise ImportLayoutError(f"{source}: column {column.name} has more than one source")
    if column.field is not None and column.field not in keys:
        raise ImportLayoutError(f"{source}: column {column.name} maps unknown field '{column.field}'")
    if column.code is not None and (column.field is None or column.code not in tables):
        raise ImportLayoutError(f"{source}: column {column.name} uses code table '{column.code}' without a field "
                                f"or the table is unknown (known: {', '.join(tables)})")
    if column.meta is not None and column.meta not in META_SOURCES:
        raise ImportLayoutError(f"{source}: column {column.name} has unknown meta '{column.meta}'")
    return column


@cache
def import_layout(book_type: str) -> ImportLayout:
    path = LAYOUTS_DIR / f"{book_type}.yaml"
    if not path.exists():
        raise ImportLayoutError(f"No import layout for book type '{book_type}' ({path.name} missing)")
    raw = _read_yaml(path)
    keys = set(get_book_type(book_type).keys)
    tables = code_tables()
    if not isinstance(raw, dict) or raw.get("book_type") != book_type or not isinstance(raw.get("columns"), list):
        raise ImportLayoutError(f"{path.name}: needs book_type: {book_type} and a columns list")
    columns = tuple(_column(entry, keys, tables, path.name) for entry in raw["columns"])
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ImportLayoutError(f"{path.name}: duplicate column names")
    return ImportLayout(book_type=book_type, sheet=str(raw.get("sheet", "DL Import")), columns=columns)
