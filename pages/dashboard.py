"""Tiến độ: records by status per unit / book type / user, and approvals per day."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.progress import StatusCounts, UserActivity, progress_dashboard
from workbench.ui.guard import require
from workbench.ui.labels import RECORD_STATUS_VI

ctx = require(Role.SUPERVISOR)


def counts_frame(groups: list[StatusCounts], group_label: str) -> pd.DataFrame:
    rows = []
    for group in groups:
        row: dict[str, object] = {group_label: group.label}
        row.update({RECORD_STATUS_VI.get(status, status): n for status, n in group.by_status.items()})
        row["Tổng"] = group.total
        row["Còn lại"] = group.remaining
        rows.append(row)
    return pd.DataFrame(rows).fillna(0)


def chart_and_table(groups: list[StatusCounts], group_label: str) -> None:
    if not groups:
        st.info("Chưa có dữ liệu.")
        return
    frame = counts_frame(groups, group_label)
    statuses = [c for c in frame.columns if c not in (group_label, "Tổng", "Còn lại")]
    st.bar_chart(frame.set_index(group_label)[statuses], horizontal=True, stack=True)
    st.dataframe(frame, hide_index=True, width="stretch")


def user_activity(activity: list[UserActivity]) -> None:
    if not activity:
        st.info("Chưa có ai xác minh bản ghi nào.")
        return
    frame = pd.DataFrame([
        {"Người dùng": a.username, "Đã duyệt": a.approved, "Duyệt hôm nay": a.approved_today,
         "Chuyển tổ kiểm tra": a.flagged, "Bỏ qua": a.skipped, "Trường đã sửa": a.fields_corrected}
        for a in activity
    ])
    st.bar_chart(frame.set_index("Người dùng")[["Đã duyệt", "Chuyển tổ kiểm tra", "Bỏ qua"]], horizontal=True,
                 stack=True)
    st.dataframe(frame, hide_index=True, width="stretch")


st.title("Tiến độ số hoá")
days = st.select_slider("Số ngày gần nhất", options=[7, 14, 30, 60], value=14, key="dashboard-days")
with ctx.session() as (session, user):
    dashboard = progress_dashboard(session, user, days=days)
total = sum(g.total for g in dashboard.by_unit)
remaining = sum(g.remaining for g in dashboard.by_unit)
first, second, third = st.columns(3)
first.metric("Tổng số bản ghi", total)
second.metric("Đã xong", total - remaining)
third.metric("Còn lại", remaining)
if dashboard.approved_per_day:
    st.subheader("Số bản ghi được duyệt mỗi ngày")
    # ISO day strings: they sort by date and avoid the chart's English weekday labels.
    per_day = pd.DataFrame([(day.isoformat(), n) for day, n in dashboard.approved_per_day],
                           columns=["Ngày", "Đã duyệt"]).set_index("Ngày")
    st.bar_chart(per_day, height=240)
unit_tab, type_tab, user_tab = st.tabs(["Theo đơn vị", "Theo loại sổ", "Theo người dùng"])
with unit_tab:
    chart_and_table(dashboard.by_unit, "Đơn vị")
with type_tab:
    chart_and_table(dashboard.by_book_type, "Loại sổ")
with user_tab:
    user_activity(dashboard.by_user)
