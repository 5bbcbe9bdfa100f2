"""Báo cáo (Phụ lục 01): the daily progress report per unit and book type, plan and productivity."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from models import Role
from workbench.accounts.admin import list_units
from workbench.deliverables.report import (
    VIETNAM,
    ReportError,
    plan_view,
    progress_report,
    set_unit_plan,
    user_productivity,
)
from workbench.deliverables.report_xlsx import write_report_xlsx
from workbench.errors import ServiceError
from workbench.scope import SUPERVISORS, load_scope
from workbench.ui import charts
from workbench.ui.guard import require
from workbench.ui.plain import plain

ctx = require(Role.SUPERVISOR)
st.title("Báo cáo tiến độ (Phụ lục 01)")
st.caption("Gửi hằng ngày trước 14 giờ (cấp huyện) / 15 giờ (cấp tỉnh). Ngày tính theo giờ Việt Nam.")

with ctx.session() as (session, user):
    units = list_units(session, user)
    is_admin = load_scope(session, user, SUPERVISORS).is_admin
# Supervisors report on the top units of their scope; an admin may also report on the whole province.
top_units = {u.id: u.path for u in units if u.parent_id not in {v.id for v in units}}
choices: list[int | None] = ([None] if is_admin else []) + list(top_units)
if not choices:
    st.info("Bạn chưa được giao đơn vị nào.")
    st.stop()
unit_col, day_col = st.columns(2)
unit_id = unit_col.selectbox("Đơn vị", choices, key="report-unit",
                             format_func=lambda uid: "Toàn bộ" if uid is None else top_units[uid])
today = datetime.now(VIETNAM).date()
day = day_col.date_input("Ngày báo cáo", value=today, max_value=today, format="DD/MM/YYYY", key="report-day")

try:
    with ctx.session() as (session, user):
        report = progress_report(session, user, day, unit_id)  # the services check the unit's scope
        plans = plan_view(session, user, day, unit_id)
        productivity = user_productivity(session, user, day - timedelta(days=6), day, unit_id)
except (ReportError, ServiceError) as exc:
    st.error(plain(exc.message_vi))
    st.stop()

st.dataframe(pd.DataFrame(report.as_table()), hide_index=True, width="stretch")
buffer = io.BytesIO()
scope_label = "Toàn bộ" if unit_id is None else top_units[unit_id]
write_report_xlsx(report, plans, productivity, buffer, scope=scope_label)
st.download_button("Tải Phụ lục 01 (Excel)", buffer.getvalue(), file_name=f"phu-luc-01-{day.isoformat()}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", type="primary",
                   key="report-download")

st.subheader("Kế hoạch và dự kiến hoàn thành")
if plans:
    st.dataframe(pd.DataFrame([
        {"Đơn vị": p.unit_name, "Số máy": p.computers, "Định mức (hồ sơ/máy/ngày)": p.quota_per_computer_per_day,
         "Còn lại": p.remaining, "Tốc độ 7 ngày (hồ sơ/ngày)": round(p.rate_per_day, 1),
         "Số ngày theo định mức": p.days_at_quota, "Số ngày theo tốc độ hiện tại": p.days_at_current_rate}
        for p in plans
    ]), hide_index=True, width="stretch")
else:
    st.caption("Chưa có đơn vị nào khai báo kế hoạch (số máy, định mức).")

with st.expander("Khai báo kế hoạch của đơn vị (số máy, định mức)"):
    all_units = {u.id: u.path for u in units}
    with st.form("unit-plan"):
        plan_unit = st.selectbox("Đơn vị", list(all_units), format_func=lambda uid: all_units[uid], key="plan-unit")
        computers = st.number_input("Số máy tính", min_value=0, value=1, step=1, key="plan-computers")
        quota = st.number_input("Định mức (hồ sơ/máy/ngày)", min_value=0, value=250, step=10, key="plan-quota")
        if st.form_submit_button("Lưu kế hoạch") and ctx.run(
                lambda session, user: set_unit_plan(session, user, int(plan_unit), int(computers), int(quota)),
                None).ok:
            st.rerun()

st.subheader("Năng suất 7 ngày gần nhất")
if productivity:
    st.altair_chart(charts.per_user_day_bars([(d.day, d.username, d.approved) for d in productivity]),
                    width="stretch")
else:
    st.caption("Chưa có bản ghi nào được duyệt trong 7 ngày qua.")
