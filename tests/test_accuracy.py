"""The accuracy scorer: 100% on truth against itself, exact numbers on a hand-made perturbed export."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from samples.export_scores import normalize, score, truth_as_export
from workbench.book_types import get_book_type

ROOT = Path(__file__).resolve().parent.parent
KEYS = get_book_type("khai_sinh").keys


def truth_record(row_index: int, **values: str) -> dict:
    return {"row_index": row_index, "box": [0, 0, 10, 10],
            "fields": {k: {"value": values.get(k, ""), "text_boxes": []} for k in KEYS}}


def export_record(page_file: str, row_index: int, **fields: dict) -> dict:
    return {"page_file": page_file, "page_index": 1, "row_index": row_index, "status": "proposed",
            "fields": {k: {"confidence": 0.9, "final": None, "status": "proposed", **v} for k, v in fields.items()}}


@pytest.fixture()
def truth() -> dict:
    return {
        "book": {"book_type": "khai_sinh", "unit": "Xã Đại Lãnh", "year": 2003, "volume": 1, "seed": 0},
        "pages": [
            {"file": "page_001.jpg", "records": [
                truth_record(1, registration_no="1", full_name="Nguyễn Văn An", sex="Nam"),
                truth_record(2, registration_no="2", full_name="Trần Thị Bình", sex="Nữ"),
            ]},
            {"file": "page_002.jpg", "records": [
                truth_record(1, registration_no="3", full_name="Lê Văn Cường", sex="Nam"),
            ]},
        ],
    }


def test_truth_against_itself_is_perfect(truth: dict) -> None:
    report = score(truth_as_export(truth), truth)
    assert report.row_recall == report.row_precision == 1.0
    assert report.extra_rows == 0
    assert report.overall.exact_rate == 1.0 and report.overall.cer == 0.0
    assert report.overall.fields == 3 * len(KEYS)


def test_perturbed_export_gives_the_hand_counted_numbers(truth: dict) -> None:
    export = {"book": {"id": 1, "book_type": "khai_sinh"}, "records": [
        export_record("page_001.jpg", 1,
                      registration_no={"value": "1"},
                      full_name={"value": "Nguyễn Văn Ân"},  # one substituted character
                      sex={"value": "Nam"},
                      notes={"value": "  "}),  # whitespace only = empty
        export_record("/scans/page_001.jpg", 2,  # a path: matched by file name
                      registration_no={"value": "2"},
                      full_name={"value": "Tran Thi Binh", "final": "Trần  Thị Bình"},  # final wins
                      sex={"value": unicodedata.normalize("NFD", "Nữ")},  # decomposed = same text
                      notes={"value": "x"}),  # one character inserted into an empty cell
        export_record("page_002.jpg", 5, full_name={"value": "Ghost"}),  # no such truth row
    ]}
    report = score(export, truth, "khai_sinh")
    assert (report.truth_rows, report.export_rows, report.matched_rows, report.extra_rows) == (3, 3, 2, 1)
    assert report.row_recall == pytest.approx(2 / 3) and report.row_precision == pytest.approx(2 / 3)
    # End to end: the missed row reads as empty, costing its 3 filled fields (1 + 12 + 3 chars).
    assert (report.overall.fields, report.overall.exact) == (36, 31)
    assert (report.overall.char_errors, report.overall.truth_chars) == (18, 49)
    assert report.overall.cer == pytest.approx(18 / 49)
    assert (report.matched.fields, report.matched.exact, report.matched.char_errors) == (24, 22, 2)
    names = report.by_type["person_name"]
    assert (names.fields, names.exact, names.char_errors, names.truth_chars) == (12, 10, 13, 38)
    assert (report.by_field["full_name"].exact, report.by_field["full_name"].fields) == (1, 3)
    notes = report.by_field["notes"]
    assert (notes.exact, notes.char_errors, notes.truth_chars, notes.cer) == (2, 1, 0, 1.0)
    assert report.by_field["sex"].exact == 2  # the NFD "Nữ" matched; the missed row did not


def test_normalize() -> None:
    assert normalize(None) == ""
    assert normalize("  Nguyễn \t Văn\nAn ") == "Nguyễn Văn An"
    assert normalize(unicodedata.normalize("NFD", "Đặng")) == "Đặng"


def test_cli_on_a_committed_book(tmp_path: Path) -> None:
    truth_path = ROOT / "samples" / "books" / "ket_hon" / "truth.json"
    export_path = tmp_path / "export.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    export_path.write_text(json.dumps(truth_as_export(truth), ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "accuracy.py"), str(export_path), str(truth_path),
                          "--json"], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    report = json.loads(out)
    assert report["book_type"] == "ket_hon" and report["row_recall"] == 1.0
    assert report["overall"]["exact_rate"] == 1.0 and report["overall"]["fields"] > 0


def test_rows_without_page_file_match_by_page_index(truth: dict) -> None:
    export = truth_as_export(truth)
    for rec in export["records"]:
        rec["page_file"] = None
    report = score(export, truth)
    assert report.matched_rows == 3 and report.extra_rows == 0 and report.overall.exact_rate == 1.0
