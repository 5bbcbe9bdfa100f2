"""The progress report as an Excel workbook laid out like the provincial form (Phụ lục 01)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models import Unit, User
from workbench.context import Workbench
from workbench.db import transaction
from workbench.deliverables.exports.atomic import atomic_file
from workbench.deliverables.exports.cells import append_row, write_cell
from workbench.deliverables.report import (
    MEASURES,
    RATE_WINDOW_DAYS,
    TYPE_LABELS,
    VIETNAM,
    PlanRow,
    ProgressReport,
    ReportError,
    UserDay,
    plan_view,
    progress_report,
    resolve_unit,
    set_unit_plan,
    user_productivity,
)

HEADER_TOP = 4  # two header rows: book types (merged over their 4 measures), then the measures
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _progress_sheet(sheet: Worksheet, report: ProgressReport, scope: str) -> None:
    groups = list(report.book_types) + ["total"]
    last_column = 2 + 4 * len(groups)
    write_cell(sheet, 1, 1, "BÁO CÁO TIẾN ĐỘ SỐ HÓA DỮ LIỆU HỘ TỊCH").font = Font(bold=True, size=13)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_column)
    write_cell(sheet, 2, 1, f"Ngày {report.day:%d/%m/%Y} — {scope}")  # scope: a unit's name
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_column)
    for column, title in ((1, "STT"), (2, "Đơn vị")):
        write_cell(sheet, HEADER_TOP, column, title)
        sheet.merge_cells(start_row=HEADER_TOP, start_column=column, end_row=HEADER_TOP + 1, end_column=column)
    for g, group in enumerate(groups):
        first = 3 + 4 * g
        write_cell(sheet, HEADER_TOP, first, TYPE_LABELS[group])
        sheet.merge_cells(start_row=HEADER_TOP, start_column=first, end_row=HEADER_TOP, end_column=first + 3)
        for m, measure in enumerate(MEASURES):
            write_cell(sheet, HEADER_TOP + 1, first + m, measure)
    for row in sheet.iter_rows(min_row=HEADER_TOP, max_row=HEADER_TOP + 1, max_col=last_column):
        for cell in row:
            cell.font, cell.alignment, cell.border = Font(bold=True), CENTER, BOX
    number = 0
    for r, row in enumerate(report.rows, start=HEADER_TOP + 2):
        is_total = row.unit_id is None
        if not is_total:
            number += 1
        values: list[object] = ["" if is_total else number, row.unit_name]
        for group in groups:
            counts = row.total if group == "total" else row.by_type[group]
            values += [counts.total, counts.today, counts.done, counts.remaining]
        for c, value in enumerate(values, start=1):
            cell = write_cell(sheet, r, c, value)  # unit names are typed by admins: kept text
            cell.border = BOX
            if is_total:
                cell.font = Font(bold=True)
        sheet.cell(row=r, column=2).alignment = Alignment(indent=row.depth * 2)
    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 34
    for column in range(3, last_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 12
    sheet.row_dimensions[HEADER_TOP + 1].height = 45
    sheet.freeze_panes = sheet.cell(row=HEADER_TOP + 2, column=3)


def _plan_sheet(sheet: Worksheet, plans: list[PlanRow]) -> None:
    append_row(sheet, ["Đơn vị", "Số máy", "Định mức (hồ sơ/máy/ngày)", "Năng lực/ngày", "Còn lại",
                  "Tốc độ thực tế (hồ sơ/ngày, 7 ngày)", "Số ngày theo định mức", "Số ngày theo tốc độ thực tế"])
    for cell in sheet[1]:
        cell.font, cell.alignment = Font(bold=True), CENTER
    for plan in plans:
        append_row(sheet, [plan.unit_name, plan.computers, plan.quota_per_computer_per_day, plan.daily_capacity,
                      plan.remaining, round(plan.rate_per_day, 1), plan.days_at_quota, plan.days_at_current_rate])
    sheet.column_dimensions["A"].width = 34


def _productivity_sheet(sheet: Worksheet, days: list[UserDay]) -> None:
    append_row(sheet, ["Ngày", "Tài khoản", "Họ và tên", "Số hồ sơ đã duyệt"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for item in days:
        append_row(sheet, [item.day.strftime("%d/%m/%Y"), item.username, item.full_name, item.approved])


def write_report_xlsx(report: ProgressReport, plans: list[PlanRow], productivity: list[UserDay],
                      target: Path | IO[bytes], scope: str = "Toàn tỉnh") -> None:
    workbook = Workbook()
    progress = workbook.active
    progress.title = "Phu luc 01"
    _progress_sheet(progress, report, scope)
    _plan_sheet(workbook.create_sheet("Ke hoach"), plans)
    _productivity_sheet(workbook.create_sheet("Nang suat"), productivity)
    workbook.save(target)


def run_report(wb: Workbench, user: User, day_text: str | None, unit: str | None, out: Path | None,
               set_plan: tuple[int, int] | None = None) -> Path:
    """The CLI's `report` as `user`: optionally record a unit's plan, then write the day's workbook."""
    try:
        day = date.fromisoformat(day_text) if day_text else datetime.now(VIETNAM).date()
    except ValueError as exc:
        raise ReportError(f"--date must be YYYY-MM-DD, got '{day_text}'", "Ngày phải có dạng YYYY-MM-DD") from exc
    with transaction(wb.sessions) as session:
        unit_id = resolve_unit(session, user, unit)
        if set_plan is not None:
            if unit_id is None:
                raise ReportError("--set-plan needs --unit", "Cần chọn đơn vị để đặt kế hoạch")
            set_unit_plan(session, user, unit_id, set_plan[0], set_plan[1])
        report = progress_report(session, user, day, unit_id)
        plans = plan_view(session, user, day, unit_id)
        productivity = user_productivity(session, user, day - timedelta(days=RATE_WINDOW_DAYS - 1), day, unit_id)
        scope_unit = session.get(Unit, unit_id) if unit_id is not None else None
        scope = scope_unit.name if scope_unit is not None else "Tất cả đơn vị"
    target = out or Path(f"report_{day.isoformat()}.xlsx")
    with atomic_file(target) as handle:
        write_report_xlsx(report, plans, productivity, handle, scope)
    return target
