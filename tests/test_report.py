"""Phụ lục 01 progress report, plan view and productivity against counts taken straight from SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from models import Page, Record, RecordStatus, User
from tests.conftest import record_ids
from workbench.cli import app
from workbench.context import Workbench
from workbench.db import transaction
from workbench.deliverables.report import (
    REPORT_BOOK_TYPES,
    ReportError,
    day_bounds,
    plan_view,
    progress_report,
    set_unit_plan,
    user_productivity,
)

DAY = date(2026, 11, 20)
# 17:30 UTC is already the next Vietnamese day: it must count for DAY + 1, not DAY.
ON_DAY = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LATE_EVENING_UTC = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
DAY_BEFORE = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def _approve(sessions: sessionmaker[Session], ids: list[int], when: datetime, user: User) -> None:
    with transaction(sessions) as session:
        session.execute(update(Record).where(Record.id.in_(ids)).values(
            status=RecordStatus.APPROVED, approved_at=when, approved_by_id=user.id))


@pytest.fixture()
def progress_db(wb: Workbench, units: dict[str, int], users: dict[str, User],
                build_book: Callable[..., int]) -> dict[str, Any]:
    """Books of several types across two communes and another district, approved on different days."""
    sessions = wb.sessions
    birth_a = build_book(units["xa_a"], [0.9] * 8, declared_count=120)
    marriage_a = build_book(units["xa_a"], [0.9] * 4, book_type="ket_hon", declared_count=None)
    death_b = build_book(units["xa_b"], [0.9] * 5, book_type="khai_tu", declared_count=40)
    adoption_other = build_book(units["other_xa"], [0.9] * 3, book_type="nuoi_con_nuoi", declared_count=3)
    build_book(units["huyen"], [0.9] * 2, declared_count=500, year=1999)  # a district-level book, untouched
    # declared_count=None must fall back to the records found: build_book always sets one, so clear it.
    with transaction(sessions) as session:
        session.execute(text("UPDATE books SET declared_count = NULL WHERE id = :id"), {"id": marriage_a})
    birth = record_ids(sessions, birth_a)
    _approve(sessions, birth[:3], ON_DAY, users["official"])
    _approve(sessions, birth[3:5], DAY_BEFORE, users["official2"])
    _approve(sessions, birth[5:6], LATE_EVENING_UTC, users["official"])  # counts for the next day
    _approve(sessions, record_ids(sessions, marriage_a)[:2], ON_DAY, users["official2"])
    _approve(sessions, record_ids(sessions, death_b)[:5], ON_DAY, users["supervisor"])
    _approve(sessions, record_ids(sessions, adoption_other)[:1], DAY_BEFORE, users["outsider"])
    with transaction(sessions) as session:  # a rejected row is no registration; a deleted page never counts
        session.execute(update(Record).where(Record.id == birth[7]).values(status=RecordStatus.REJECTED))
    return {"birth_a": birth_a, "marriage_a": marriage_a, "death_b": death_b}


def _sql_counts(session: Session, unit_ids: list[int], book_type: str, day: date) -> tuple[int, int, int]:
    """(Tổng số, trong ngày, đã nhập) computed directly, independently of workbench.deliverables.report."""
    start, end = day_bounds(day)
    fmt = "%Y-%m-%d %H:%M:%S"
    marks = ",".join(str(u) for u in unit_ids)
    total = session.execute(text(
        f"SELECT COALESCE(SUM(COALESCE(b.declared_count, (SELECT COUNT(*) FROM records r JOIN pages p ON "
        f"p.id = r.page_id WHERE r.book_id = b.id AND r.status != 'rejected' AND NOT p.deleted))), 0) "
        f"FROM books b WHERE b.unit_id IN ({marks}) AND b.book_type = :t"), {"t": book_type}).scalar()
    base = (f"SELECT COUNT(*) FROM records r JOIN books b ON b.id = r.book_id JOIN pages p ON p.id = r.page_id "
            f"WHERE b.unit_id IN ({marks}) AND b.book_type = :t AND r.status = 'approved' AND NOT p.deleted ")
    today = session.execute(text(base + "AND r.approved_at >= :s AND r.approved_at < :e"),
                            {"t": book_type, "s": start.strftime(fmt), "e": end.strftime(fmt)}).scalar()
    done = session.execute(text(base + "AND r.approved_at < :e"), {"t": book_type, "e": end.strftime(fmt)}).scalar()
    return int(total), int(today), int(done)


def test_report_numbers_equal_direct_sql_counts_for_every_unit_and_type(
    wb: Workbench, units: dict[str, int], users: dict[str, User], progress_db: dict[str, Any],
) -> None:
    subtree = {
        "tinh": list(units.values()),
        "huyen": [units["huyen"], units["xa_a"], units["xa_b"]],
        "xa_a": [units["xa_a"]], "xa_b": [units["xa_b"]],
        "other_huyen": [units["other_huyen"], units["other_xa"]], "other_xa": [units["other_xa"]],
    }
    for day in (DAY, DAY + timedelta(days=1)):
        with wb.sessions() as session:
            report = progress_report(session, users["admin"], day)
            rows = {r.unit_id: r for r in report.rows}
            for key, members in subtree.items():
                row = rows[units[key]]
                for book_type in REPORT_BOOK_TYPES:
                    counts = row.by_type[book_type]
                    assert (counts.total, counts.today, counts.done) == _sql_counts(session, members, book_type, day)
                    assert counts.remaining == max(counts.total - counts.done, 0)
    with wb.sessions() as session:
        report = progress_report(session, users["admin"], DAY)
    rows = {r.unit_id: r for r in report.rows}
    xa_a = rows[units["xa_a"]]
    assert (xa_a.by_type["khai_sinh"].total, xa_a.by_type["khai_sinh"].today, xa_a.by_type["khai_sinh"].done) == (
        120, 3, 5)
    assert xa_a.by_type["ket_hon"].total == 4  # undeclared: the records found
    assert [r.unit_name for r in report.rows] == [
        "Tỉnh Thử Nghiệm", "Huyện Đồng Phú", "Xã Tân Hưng", "Xã Tân Lập", "Huyện Lộc Ninh", "Xã Lộc Tấn", "Tổng cộng"]
    assert [r.depth for r in report.rows[:-1]] == [0, 1, 2, 2, 1, 2]
    assert report.rows[-1].total == rows[units["tinh"]].total
    table = report.as_table()  # what the UI page shows
    assert table[3]["Đơn vị"] == "        Xã Tân Lập"
    assert (table[3]["Khai sinh · Tổng số"], table[3]["Khai sinh · Số liệu nhập trong ngày"]) == (120, 3)
    assert table[-1]["Tổng cộng · Còn lại"] == report.rows[-1].total.remaining


def test_deleted_pages_never_count(wb: Workbench, units: dict[str, int], users: dict[str, User],
                                  progress_db: dict[str, Any]) -> None:
    with wb.sessions() as session:
        before = progress_report(session, users["admin"], DAY, units["xa_a"]).rows[0].by_type["khai_sinh"]
    with transaction(wb.sessions) as session:
        session.execute(update(Page).where(Page.book_id == progress_db["birth_a"]).values(deleted=True))
    with wb.sessions() as session:
        after = progress_report(session, users["admin"], DAY, units["xa_a"]).rows[0].by_type["khai_sinh"]
    assert (before.today, before.done) == (3, 5) and (after.today, after.done) == (0, 0)
    assert after.total == 120  # the declared count still stands: the work remains


def test_plan_view_forecasts_and_productivity(
    wb: Workbench, units: dict[str, int], users: dict[str, User], progress_db: dict[str, Any], call: Callable,
) -> None:
    call(set_unit_plan, users["admin"], units["huyen"], 3, 250)
    call(set_unit_plan, users["supervisor"], units["xa_a"], 2, 0)
    with pytest.raises(ReportError):
        call(set_unit_plan, users["admin"], units["xa_a"], -1, 200)
    with wb.sessions() as session:
        plans = {p.unit_id: p for p in plan_view(session, users["admin"], DAY)}
        report = {r.unit_id: r for r in progress_report(session, users["admin"], DAY).rows}
        productivity = user_productivity(session, users["admin"], DAY - timedelta(days=1), DAY)
    huyen = plans[units["huyen"]]
    assert huyen.remaining == report[units["huyen"]].total.remaining
    assert huyen.daily_capacity == 750 and huyen.days_at_quota == -(-huyen.remaining // 750)
    approved_last_week = 3 + 2 + 2 + 5  # on DAY and the day before, in the district
    assert huyen.rate_per_day == pytest.approx(approved_last_week / 7)
    assert huyen.days_at_current_rate == -(-huyen.remaining * 7 // approved_last_week)
    assert plans[units["xa_a"]].days_at_quota is None  # no quota: no forecast
    tally = {(u.username, u.day): u.approved for u in productivity}
    assert tally == {("official", DAY): 3, ("official2", DAY - timedelta(days=1)): 2, ("official2", DAY): 2,
                     ("supervisor", DAY): 5, ("outsider", DAY - timedelta(days=1)): 1}


def test_cli_report_writes_the_form_with_merged_headers(
    wb: Workbench, units: dict[str, int], users: dict[str, User], progress_db: dict[str, Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKBENCH_DB", wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(wb.settings.data_dir))
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(app, ["report", "--date", DAY.isoformat(), "--unit", "Huyện Đồng Phú",
                                      "--set-plan", "3", "250", "--out", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    sheet = workbook["Phu luc 01"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A4:A5", "B4:B5", "C4:F4", "G4:J4", "K4:N4", "O4:R4", "S4:V4"} <= merged
    assert [sheet.cell(4, c).value for c in (3, 7, 11, 15, 19)] == [
        "Khai sinh", "Kết hôn", "Khai tử", "Con nuôi", "Tổng cộng"]
    assert [sheet.cell(5, c).value for c in range(3, 7)] == [
        "Tổng số", "Số liệu nhập trong ngày", "Tổng đã nhập", "Còn lại"]
    names = [sheet.cell(r, 2).value for r in range(6, sheet.max_row + 1)]
    assert names == ["Huyện Đồng Phú", "Xã Tân Hưng", "Xã Tân Lập", "Tổng cộng"]
    with wb.sessions() as session:
        expected = progress_report(session, users["admin"], DAY, units["huyen"]).rows[0]
    assert [sheet.cell(6, c).value for c in range(3, 7)] == [
        expected.by_type["khai_sinh"].total, 3, 5, expected.by_type["khai_sinh"].remaining]
    assert workbook["Ke hoach"].cell(2, 2).value == 3
    bad = CliRunner().invoke(app, ["report", "--date", "20-11-2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    with wb.sessions() as session:
        assert session.scalar(select(Record.id).limit(1)) is not None
