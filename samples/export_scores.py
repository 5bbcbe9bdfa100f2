"""An export JSON scored against a synthetic book's truth.json (bench/accuracy.py is its command line).

Measures, per field, per field type and overall: exact match after normalization (NFC,
single spaces, stripped) and character error rate (Levenshtein distance / truth length);
plus row recall (truth rows found, matched by (page file, row index)) and extra rows.

Field figures are end to end: a truth row the export misses counts as every field read
as "" (so a missed row costs accuracy as well as recall). `matched` gives the same figures
over the matched rows only, which isolates the reader from the segmentation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from rapidfuzz.distance import Levenshtein


def normalize(text: str | None) -> str:
    """NFC, whitespace runs collapsed to one space, stripped; None -> ""."""
    if text is None:
        return ""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(text))).strip()


@dataclass
class FieldStats:
    """Exact matches and character errors over a set of field values."""

    fields: int = 0
    exact: int = 0
    char_errors: int = 0
    truth_chars: int = 0

    def add(self, truth: str, predicted: str) -> None:
        self.fields += 1
        self.exact += truth == predicted
        self.char_errors += Levenshtein.distance(truth, predicted)
        self.truth_chars += len(truth)

    @property
    def exact_rate(self) -> float:
        return self.exact / self.fields if self.fields else 1.0

    @property
    def cer(self) -> float:
        """Character error rate; insertions into empty truth cells count as errors too."""
        if self.truth_chars == 0:
            return 0.0 if self.char_errors == 0 else 1.0
        return self.char_errors / self.truth_chars


@dataclass
class AccuracyReport:
    book_type: str
    truth_rows: int
    export_rows: int
    matched_rows: int
    extra_rows: int  # export rows with no truth row at (page file, row index), or duplicates
    overall: FieldStats
    matched: FieldStats  # over matched rows only
    by_type: dict[str, FieldStats] = field(default_factory=dict)
    by_field: dict[str, FieldStats] = field(default_factory=dict)

    @property
    def row_recall(self) -> float:
        return self.matched_rows / self.truth_rows if self.truth_rows else 1.0

    @property
    def row_precision(self) -> float:
        return self.matched_rows / self.export_rows if self.export_rows else 1.0

    def as_dict(self) -> dict[str, Any]:
        def stats(s: FieldStats) -> dict[str, Any]:
            return {"fields": s.fields, "exact": s.exact, "exact_rate": round(s.exact_rate, 4),
                    "cer": round(s.cer, 4), "char_errors": s.char_errors, "truth_chars": s.truth_chars}

        return {
            "book_type": self.book_type,
            "truth_rows": self.truth_rows,
            "export_rows": self.export_rows,
            "matched_rows": self.matched_rows,
            "extra_rows": self.extra_rows,
            "row_recall": round(self.row_recall, 4),
            "row_precision": round(self.row_precision, 4),
            "overall": stats(self.overall),
            "matched": stats(self.matched),
            "by_type": {k: stats(v) for k, v in self.by_type.items()},
            "by_field": {k: stats(v) for k, v in self.by_field.items()},
        }

    def table(self) -> str:
        lines = [
            f"book type {self.book_type}: rows truth {self.truth_rows}, export {self.export_rows}, "
            f"matched {self.matched_rows} (recall {self.row_recall:.1%}), extra {self.extra_rows} "
            f"(precision {self.row_precision:.1%})",
            f"{'':28} {'fields':>7} {'exact':>8} {'CER':>7}",
        ]

        def row(name: str, s: FieldStats) -> str:
            return f"{name:28} {s.fields:7d} {s.exact_rate:8.1%} {s.cer:7.2%}"

        lines += [row(f"type {k}", v) for k, v in self.by_type.items()]
        lines += [row(k, v) for k, v in self.by_field.items()]
        lines.append(row("OVERALL (end to end)", self.overall))
        lines.append(row("matched rows only", self.matched))
        return "\n".join(lines)


def exported_value(field_entry: Any) -> str:
    """The official's final value when set, else the proposed value."""
    if isinstance(field_entry, dict):
        final = field_entry.get("final")
        return normalize(final if final is not None else field_entry.get("value"))
    return normalize(field_entry)


def _field_types(book_type: str) -> dict[str, str]:
    from workbench.book_types import get_book_type

    return {c.key: c.field_type for c in get_book_type(book_type).columns}


def score(export: dict[str, Any], truth: dict[str, Any], book_type: str | None = None) -> AccuracyReport:
    """Compare an export (workbench JSON export shape) with a synthetic book's truth."""
    book_type = book_type or truth["book"]["book_type"]
    types = _field_types(book_type)

    truth_rows: dict[tuple[str, int], dict[str, str]] = {}
    page_files = [PurePath(page["file"]).name for page in truth["pages"]]
    for page, file_name in zip(truth["pages"], page_files, strict=True):
        for rec in page["records"]:
            values = {k: normalize(v["value"]) for k, v in rec["fields"].items()}
            truth_rows[(file_name, int(rec["row_index"]))] = values

    def page_of(rec: dict[str, Any]) -> str:
        """The export row's page file name; by 1-based page_index when the file is not given."""
        if rec.get("page_file"):
            return PurePath(str(rec["page_file"])).name
        index = int(rec.get("page_index") or 0)
        return page_files[index - 1] if 1 <= index <= len(page_files) else ""

    predicted: dict[tuple[str, int], dict[str, str]] = {}
    extra = 0
    export_records = export.get("records", [])
    for rec in export_records:
        key = (page_of(rec), int(rec.get("row_index", 0)))
        if key not in truth_rows or key in predicted:
            extra += 1
            continue
        predicted[key] = {k: exported_value(v) for k, v in (rec.get("fields") or {}).items()}

    overall, matched = FieldStats(), FieldStats()
    by_type = {t: FieldStats() for t in dict.fromkeys(types.values())}
    by_field = {k: FieldStats() for k in types}
    for key, values in truth_rows.items():
        found = predicted.get(key)
        for field_key, field_type in types.items():
            t = values.get(field_key, "")
            p = (found or {}).get(field_key, "")
            overall.add(t, p)
            by_type[field_type].add(t, p)
            by_field[field_key].add(t, p)
            if found is not None:
                matched.add(t, p)
    return AccuracyReport(
        book_type=book_type,
        truth_rows=len(truth_rows),
        export_rows=len(export_records),
        matched_rows=len(predicted),
        extra_rows=extra,
        overall=overall,
        matched=matched,
        by_type=by_type,
        by_field=by_field,
    )


def truth_as_export(truth: dict[str, Any]) -> dict[str, Any]:
    """An export that reads every field exactly as the truth (the scorer's 100% reference)."""
    records = []
    for page_index, page in enumerate(truth["pages"], start=1):
        for rec in page["records"]:
            records.append({
                "page_file": page["file"],
                "page_index": page_index,
                "row_index": rec["row_index"],
                "status": "proposed",
                "fields": {k: {"value": v["value"], "confidence": 1.0, "final": None, "status": "proposed"}
                           for k, v in rec["fields"].items()},
            })
    return {"book": dict(truth["book"]), "records": records}
