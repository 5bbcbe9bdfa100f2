"""Book types are data: one YAML file per type in workbench/templates/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ocr.types import FIELD_TYPES, ColumnSpec, LedgerLayout

TEMPLATES_DIR = Path(__file__).parent / "templates"


class BookTypeError(ValueError):
    """A template file is missing or malformed."""


@dataclass(frozen=True)
class BookType:
    key: str
    label: str  # e.g. "Sổ đăng ký khai sinh"
    short_label: str  # e.g. "Khai sinh" (report columns)
    priority: int  # queue order: birth 1, marriage 2, death 3, adoption 4, others after
    layout: LedgerLayout

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        return self.layout.columns

    @property
    def keys(self) -> list[str]:
        return self.layout.keys


def _parse(path: Path) -> BookType:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        key = str(raw["key"])
        columns = tuple(
            ColumnSpec(
                key=str(c["key"]),
                label=str(c["label"]),
                field_type=str(c["type"]),
                width=float(c.get("width", 1.0)),
            )
            for c in raw["columns"]
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise BookTypeError(f"Book-type template {path.name} is malformed: {exc}") from exc
    if key != path.stem:
        raise BookTypeError(f"Template {path.name}: key '{key}' must equal the file name")
    unknown = [c.field_type for c in columns if c.field_type not in FIELD_TYPES]
    if unknown:
        raise BookTypeError(f"Template {path.name}: unknown field types {unknown}; known: {FIELD_TYPES}")
    keys = [c.key for c in columns]
    if len(set(keys)) != len(keys):
        raise BookTypeError(f"Template {path.name}: duplicate column keys")
    return BookType(
        key=key,
        label=str(raw.get("label", key)),
        short_label=str(raw.get("short_label", raw.get("label", key))),
        priority=int(raw.get("priority", 99)),
        layout=LedgerLayout(book_type=key, columns=columns),
    )


@cache
def all_book_types(directory: Path = TEMPLATES_DIR) -> dict[str, BookType]:
    """Every template in the directory, ordered by priority then key."""
    types = [_parse(p) for p in sorted(directory.glob("*.yaml"))]
    return {t.key: t for t in sorted(types, key=lambda t: (t.priority, t.key))}


def get_book_type(key: str) -> BookType:
    types = all_book_types()
    if key not in types:
        raise BookTypeError(f"Unknown book type '{key}'. Known: {', '.join(types)}")
    return types[key]
