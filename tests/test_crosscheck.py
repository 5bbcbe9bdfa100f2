"""Cross-check against a synthetic population extract: planted matches, mismatches, not-found, bad files."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from models import CrosscheckResult, FieldStatus, FieldValue, PopulationExtract, Record, RecordStatus, User
from tests.conftest import record_ids
from workbench.cli import app
from workbench.context import Workbench
from workbench.crosscheck.extract import ExtractError, read_extract
from workbench.crosscheck.index import CitizenIndex
from workbench.crosscheck.matching import match_person, person_queries
from workbench.crosscheck.normalize import name_key
from workbench.crosscheck.service import import_extract, run_crosscheck
from workbench.crosscheck.tracking import (
    TRACKING_HEADER,
    TrackingError,
    resolve_tracking_item,
    tracking_list,
    write_tracking_xlsx,
)
from workbench.db import transaction
from workbench.deliverables.exports.package import export_book_xlsx

HEADER = ["so_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "ho_ten_cha", "ho_ten_me", "noi_cu_tru"]

# What the (approved) book says, record by record: name, birth date, sex, father, mother.
BOOK = [
    ("Nguyễn Văn An", "05/03/1998", "Nam", "Nguyễn Văn Bình", "Trần Thị Cúc"),  # match (extract w/o accents)
    ("Lê Thị Hoa", "1999", "Nữ", "Lê Văn Dũng", "Phạm Thị Em"),  # match on a partial date
    ("Trần Minh Khoa", "12/07/2000", "Nam", "Trần Văn Lực", "Võ Thị Mai"),  # day differs -> different
    ("Phạm Quốc Huy", "01/01/2001", "Nam", "Phạm Văn Nam", "Đỗ Thị Oanh"),  # mother differs -> different
    ("Hoàng Thị Lan", "20/10/1997", "Nữ", "Hoàng Văn Phúc", "Bùi Thị Quế"),  # name keyed differently
    ("Đặng Văn Sơn", "03/03/2003", "Nam", "", "Ngô Thị Tâm"),  # not in the extract
]
CITIZENS = [
    ("001098000001", "NGUYEN  Van An", "1998-03-05", "Nam", "Nguyen Van Binh", "Tran Thi Cuc", "Xã Tân Lập"),
    ("001099000002", "Lê Thị Hoa", "14/08/1999", "Nữ", "Lê Văn Dũng", "Phạm Thị Em", "Xã Tân Lập"),
    ("001200000003", "Trần Minh Khoa", "21/07/2000", "Nam", "Trần Văn Lực", "Võ Thị Mai", "Xã Tân Hưng"),
    ("001201000004", "Phạm Quốc Huy", "01/01/2001", "Nam", "Phạm Văn Nam", "Đỗ Thị Oanh Kiều", "Xã Tân Lập"),
    ("001197000005", "Hoàng Thị Lanh", "20/10/1997", "Nữ", "Hoàng Văn Phúc", "Bùi Thị Quế", "Xã Tân Lập"),
    ("001170000006", "Nguyễn Văn Bình", "1970", "Nam", "", "", "Xã Tân Lập"),  # the first child's father
]


def _noise(count: int, seed: int = 3) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    surnames, middles, givens = ["Vũ", "Hồ", "Dương", "Lý"], ["Văn", "Thị", "Hữu"], ["Tú", "Vy", "Xuân", "Yến"]
    return [
        (f"0790{i:08d}", f"{rng.choice(surnames)} {rng.choice(middles)} {rng.choice(givens)}",
         f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2010)}", rng.choice(["Nam", "Nữ"]),
         "", "", "Xã Khác")
        for i in range(count)
    ]


def _csv(rows: list[tuple[str, ...]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _set_book_values(sessions: sessionmaker[Session], book_id: int, rows: list[tuple[str, ...]],
                     user: User) -> list[int]:
    keys = ("full_name", "birth_date", "sex", "father_name", "mother_name")
    ids = record_ids(sessions, book_id)
    with transaction(sessions) as session:
        for record_id, values in zip(ids, rows, strict=True):
            for key, value in zip(keys, values, strict=True):
                session.execute(update(FieldValue).where(FieldValue.record_id == record_id, FieldValue.key == key)
                                .values(final_value=value, status=FieldStatus.CORRECTED))
        session.execute(update(FieldValue).where(FieldValue.record_id.in_(ids), FieldValue.status == "proposed")
                        .values(status=FieldStatus.CONFIRMED))
        session.execute(update(Record).where(Record.id.in_(ids)).values(
            status=RecordStatus.APPROVED, approved_at=datetime.now(UTC), approved_by_id=user.id))
    return ids


@pytest.fixture()
def checked(wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
            tmp_path: Path) -> dict[str, Any]:
    book_id = build_book(units["xa_a"], [0.9] * len(BOOK))
    ids = _set_book_values(wb.sessions, book_id, BOOK, users["official"])
    path = tmp_path / "trich_xuat.csv"
    path.write_bytes(_csv(CITIZENS + _noise(300)))
    with transaction(wb.sessions) as session:
        extract_id = import_extract(session, wb.settings.data_dir, path, users["admin"]).id
        summary = run_crosscheck(session, wb.settings.data_dir, extract_id)
    with wb.sessions() as session:
        results = {(r.record_id, r.role): r for r in session.scalars(select(CrosscheckResult))}
    return {"book_id": book_id, "ids": ids, "results": results, "summary": summary, "extract_id": extract_id}


def test_planted_matches_mismatches_and_not_found(checked: dict[str, Any]) -> None:
    ids, results = checked["ids"], checked["results"]
    child = [results[(i, "child")] for i in ids]
    assert [r.status for r in child] == ["match", "match", "different", "different", "different", "not_found"]
    assert [r.id_number for r in child[:2]] == ["001098000001", "001099000002"]
    assert child[2].differing_fields == ["birth_date"]
    assert child[3].differing_fields == ["mother_name"]
    assert child[4].differing_fields == ["full_name"]
    # Side by side: the book's value as written and the database's value.
    assert child[2].book_values["birth_date"] == "12/07/2000" and child[2].citizen_values["birth_date"] == "21/07/2000"
    assert child[4].book_values["full_name"] == "Hoàng Thị Lan"
    assert child[4].citizen_values["full_name"] == "Hoàng Thị Lanh"
    assert results[(ids[0], "father")].status == "match"  # name + plausible age + sex
    assert results[(ids[0], "father")].id_number == "001170000006"
    assert results[(ids[0], "mother")].status == "not_found"
    assert (ids[5], "father") not in results  # empty name: nobody to look up
    summary = checked["summary"]
    assert summary.records == 6 and summary.people == 17 and summary.counts["different"] == 3


def test_tracking_queue_resolution_and_excel_never_touch_the_book(
    wb: Workbench, users: dict[str, User], checked: dict[str, Any], tmp_path: Path, call: Callable[..., Any],
) -> None:
    with wb.sessions() as session:
        queue = tracking_list(session, book_ids=[checked["book_id"]])
        before = {(f.record_id, f.key): f.final_value for f in session.scalars(select(FieldValue))}
    assert [(q.row_index, q.role, q.differing_fields) for q in queue] == [
        (3, "child", ("birth_date",)), (4, "child", ("mother_name",)), (5, "child", ("full_name",))]
    write_tracking_xlsx(queue, tmp_path / "tracking.xlsx")
    sheet = load_workbook(tmp_path / "tracking.xlsx").active
    assert [c.value for c in sheet[1]] == TRACKING_HEADER
    assert sheet.cell(2, 12).value == "12/07/2000" and sheet.cell(2, 17).value == "21/07/2000"
    assert sheet.cell(2, 12).fill.fgColor.rgb.endswith("FFF2CC")
    call(resolve_tracking_item, queue[0].result_id, users["supervisor"], "Sổ ghi đúng; đề nghị công an điều chỉnh")
    with pytest.raises(TrackingError):
        call(resolve_tracking_item, queue[1].result_id, users["supervisor"], "   ")
    with wb.sessions() as session:
        assert len(tracking_list(session, book_ids=[checked["book_id"]])) == 2
        assert len(tracking_list(session, book_ids=[checked["book_id"]], include_resolved=True)) == 3
        after = {(f.record_id, f.key): f.final_value for f in session.scalars(select(FieldValue))}
    assert after == before


def test_matched_id_fills_the_import_file(wb: Workbench, checked: dict[str, Any], tmp_path: Path) -> None:
    with wb.sessions() as session:
        export_book_xlsx(session, checked["book_id"], tmp_path / "ks.xlsx")
    sheet = load_workbook(tmp_path / "ks.xlsx")["DL Import"]
    header = [c.value for c in sheet[1]]
    column = header.index("nksSoDinhDanh") + 1
    assert [sheet.cell(r, column).value for r in range(2, 8)] == [
        "001098000001", "001099000002", None, None, None, None]


def test_matching_tolerates_accents_spacing_and_two_digit_years() -> None:
    table = read_extract(_csv(CITIZENS), "x.csv")
    index = CitizenIndex.build(table)
    assert name_key("  NGUYỄN văn   an") == name_key("Nguyen Van An") == "nguyenvanan"
    values = {"full_name": "nguyễn văn  AN", "birth_date": "5/3/98", "sex": "Nam", "father_name": "",
              "mother_name": "TRẦN THỊ CÚC"}
    child = person_queries("khai_sinh", values)[0]
    outcome = match_person(index, child)
    assert outcome.status == "match" and table.id_number[outcome.row] == "001098000001"


def test_bad_extracts_are_refused_whole_with_english_and_vietnamese_messages(
    wb: Workbench, tmp_path: Path,
) -> None:
    cases = {
        "dan_cu.pdf": b"%PDF-1.4 not an extract",
        "thieu_cot.csv": _csv([("001098000001", "A B")], header=["so_dinh_danh", "ho_ten"]),
        "sai_dong.csv": _csv(CITIZENS + [("12345", "X Y", "01/01/2000", "", "", "", ""),
                                         ("001098000009", "Z", "31/02/2000", "", "", "", "")]),
        "trung_so.csv": _csv(CITIZENS + [CITIZENS[0]]),
        "nhi_phan.csv": bytes(range(256)) * 4,
        "hong.xlsx": b"PK\x03\x04 broken zip",
    }
    expected = {"dan_cu.pdf": "unsupported extract type", "thieu_cot.csv": "lacks required column(s) birth_date",
                "sai_dong.csv": "2 invalid row(s)", "trung_so.csv": "appears twice",
                "nhi_phan.csv": "not UTF-8", "hong.xlsx": "not a readable Excel"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with transaction(wb.sessions) as session, pytest.raises(ExtractError) as error:
            import_extract(session, wb.settings.data_dir, path)
        assert expected[name] in str(error.value), str(error.value)
        assert error.value.message_vi and error.value.message_vi != str(error.value)
    assert "line 8" in _message(tmp_path / "sai_dong.csv") and "line 9" in _message(tmp_path / "sai_dong.csv")
    # Row errors reach logs and screens: they name lines, never a citizen's ID number or birth date.
    for message in (_message(tmp_path / "sai_dong.csv"), _message(tmp_path / "trung_so.csv")):
        assert "12345" not in message and "31/02/2000" not in message and CITIZENS[0][0] not in message
    with wb.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PopulationExtract)) == 0
    assert not (wb.settings.data_dir / "originals").exists()  # nothing stored half-done


def _message(path: Path) -> str:
    try:
        read_extract(path.read_bytes(), path.name)
    except ExtractError as exc:
        return str(exc)
    return ""


def test_excel_extract_with_numeric_ids_and_dates(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Số định danh cá nhân", "Họ và tên", "Ngày sinh", "Giới tính"])
    sheet.append([1098000001, "Nguyễn Văn An", datetime(1998, 3, 5), "Nam"])
    sheet.append(["079123456789", "Lê Thị Hoa", "1999", "nữ"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_extract(buffer.getvalue(), "extract.xlsx")
    assert table.id_number == ["001098000001", "079123456789"]
    assert table.birth == [19980305, 19990000] and table.sex == ["Nam", "Nữ"]


def test_cli_import_run_and_tracking(
    wb: Workbench, units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    book_id = build_book(units["xa_a"], [0.9] * len(BOOK))
    _set_book_values(wb.sessions, book_id, BOOK, users["official"])
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    path = tmp_path / "extract.csv"
    path.write_bytes(_csv(CITIZENS))
    runner = CliRunner()
    imported = runner.invoke(app, ["crosscheck", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    extract_id = imported.stdout.strip().splitlines()[-1].split("=")[1]
    ran = runner.invoke(app, ["crosscheck", "run", extract_id, "--book", str(book_id)])
    assert ran.exit_code == 0 and "different 3" in ran.stdout
    tracked = runner.invoke(app, ["crosscheck", "tracking", "--out", str(tmp_path / "t.xlsx")])
    assert tracked.exit_code == 0 and "(3 items)" in tracked.stdout
    (tmp_path / "bad.txt").write_text("x")
    assert runner.invoke(app, ["crosscheck", "import", str(tmp_path / "bad.txt")]).exit_code == 2
