"""Per-unit lexicons grown from confirmed names and places.

Every confirmed or corrected ``person_name`` / ``place`` value of a unit's books counts: its
words (letter runs, lowercase, as ``ocr.fields.lexicon`` stores words) and its whole value.
Counts are recomputed from the database for a unit (idempotent: approving, re-approving or
correcting never double-counts) and written to ``<WORKBENCH_DATA>/lexicons/unit_<id>.json``,
which the UI reads with :func:`unit_lexicon_words`. Ingest and re-recognition count the same
fields straight from the database (:func:`local_lexicon_for_unit`, one grouped query per unit and
batch) and hand the decoder an ``ocr.fields.local_lexicon.LocalLexicon`` — so a local hamlet or a
common local surname stops being a "misread". The lexicon also carries the book's unit path (the
unit and its parents), which the place decoder resolves in the gazetteer to the book's home area.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Book, FieldStatus, FieldValue, Record, Unit, UnitLevel
from ocr.fields.lexicon import split_words
from ocr.fields.local_lexicon import HomeUnit, LocalLexicon
from workbench.book_types import get_book_type
from workbench.config import load_settings

GROWN_FIELD_TYPES = ("person_name", "place")
# Unit table levels as the gazetteer's (ocr.places.index.LEVELS); a unit's type word ("Huyện")
# wins over a level that does not fit it.
PLACE_LEVELS: dict[str, str] = {UnitLevel.XA: "ward", UnitLevel.HUYEN: "district", UnitLevel.TINH: "province"}
LEXICON_DIR = "lexicons"


@dataclass(frozen=True)
class UnitLexicon:
    unit_id: int
    unit_name: str
    words: dict[str, dict[str, int]]  # field type -> lowercase word -> count
    values: dict[str, dict[str, int]]  # field type -> whole value as written -> count
    fields_counted: int

    def as_json(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "unit_name": self.unit_name, "words": self.words, "values": self.values,
                "fields_counted": self.fields_counted,
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}


def lexicon_path(data_dir: Path, unit_id: int) -> Path:
    return data_dir / LEXICON_DIR / f"unit_{int(unit_id)}.json"


def _field_types_of(book_type: str) -> dict[str, str]:
    return {c.key: c.field_type for c in get_book_type(book_type).layout.columns}


def _confirmed_values(session: Session, unit_ids: list[int]) -> dict[str, Counter[str]]:
    """Field type -> confirmed/corrected value as written -> count, over the units' books.

    One grouped query: the database counts repeated values, Python only sees distinct ones.
    """
    values: dict[str, Counter[str]] = {t: Counter() for t in GROWN_FIELD_TYPES}
    written = func.coalesce(FieldValue.final_value, FieldValue.proposed_value)
    query = (
        select(Book.book_type, FieldValue.key, written, func.count())
        .join(Record, FieldValue.record_id == Record.id)
        .join(Book, Record.book_id == Book.id)
        .where(Book.unit_id.in_(unit_ids),
               FieldValue.status.in_([str(FieldStatus.CONFIRMED), str(FieldStatus.CORRECTED)]))
        .group_by(Book.book_type, FieldValue.key, written)
    )
    types_by_book_type: dict[str, dict[str, str]] = {}
    for book_type, key, text, count in session.execute(query):
        types = types_by_book_type.setdefault(book_type, _field_types_of(book_type))
        field_type = types.get(key)
        value = (text or "").strip()
        if field_type in GROWN_FIELD_TYPES and value:
            values[field_type][value] += count
    return values


def count_unit_lexicon(session: Session, unit_id: int) -> UnitLexicon:
    """Counts over every reviewed name/place field of the unit's books."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise ValueError(f"unknown unit {unit_id}")
    values = _confirmed_values(session, [unit_id])
    words: dict[str, Counter[str]] = {t: Counter() for t in GROWN_FIELD_TYPES}
    for field_type, counter in values.items():
        for value, count in counter.items():
            for word in split_words(value):
                words[field_type][word.lower()] += count
    counted = sum(sum(c.values()) for c in values.values())
    return UnitLexicon(unit_id, unit.name, {t: dict(c) for t, c in words.items()},
                       {t: dict(c) for t, c in values.items()}, counted)


def _unit_path(session: Session, unit_id: int) -> list[Unit]:
    """The unit and the units above it, smallest first (safe against a cycle in bad data)."""
    path: list[Unit] = []
    unit = session.get(Unit, unit_id)
    while unit is not None and all(unit.id != u.id for u in path):
        path.append(unit)
        unit = unit.parent
    return path


def lexicon_units(session: Session, unit_id: int) -> list[int]:
    """The units whose confirmed words a book of ``unit_id`` decodes with: the unit and the units
    above it (a district office's books name people and hamlets of its communes); never sibling
    communes, whose hamlets and families are not this commune's."""
    return [unit.id for unit in _unit_path(session, unit_id)]


def _home(path: list[Unit]) -> tuple[HomeUnit, ...]:
    """The book's unit path for the place decoder, names and levels from the unit up. A unit
    without parents ("Xã Đại Lãnh" as ingest creates it) is resolved by name in the gazetteer, to
    all the communes of that name (ocr.places.index.PlaceIndex.home_area)."""
    return tuple(HomeUnit(u.name, PLACE_LEVELS.get(u.level, "")) for u in path)


def local_lexicon_for_unit(session: Session, unit_id: int) -> LocalLexicon:
    """The decoder's extra words for pages of this unit's books, counted now from the database
    (no refresh needed after approvals; no words when nothing was confirmed yet), with the
    unit's path (its home area for places)."""
    path = _unit_path(session, unit_id)
    if not path:
        return LocalLexicon()
    values = _confirmed_values(session, [u.id for u in path])
    return LocalLexicon.from_counts({t: dict(c) for t, c in values.items()}, _home(path))


def update_unit_lexicon(session: Session, data_dir: Path, unit_id: int) -> UnitLexicon:
    """Recount one unit and write its lexicon file atomically (call after approvals)."""
    lexicon = count_unit_lexicon(session, unit_id)
    path = lexicon_path(data_dir, unit_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(lexicon.as_json(), handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
    return lexicon


def update_all_lexicons(session: Session, data_dir: Path) -> list[UnitLexicon]:
    unit_ids = session.scalars(select(Book.unit_id).distinct()).all()
    return [update_unit_lexicon(session, data_dir, unit_id) for unit_id in sorted(unit_ids)]


def _read(unit_id: int, data_dir: Path | None) -> dict[str, Any]:
    path = lexicon_path(data_dir or load_settings().data_dir, unit_id)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def unit_lexicon_words(unit_id: int, field_type: str, data_dir: Path | None = None) -> dict[str, int]:
    """Lowercase word -> times officials confirmed it in this unit's names/places ({} if none)."""
    return dict(_read(unit_id, data_dir).get("words", {}).get(field_type, {}))


def unit_lexicon_values(unit_id: int, field_type: str, data_dir: Path | None = None) -> dict[str, int]:
    """Whole confirmed values (e.g. a hamlet's full name) -> count, for UI completion."""
    return dict(_read(unit_id, data_dir).get("values", {}).get(field_type, {}))
