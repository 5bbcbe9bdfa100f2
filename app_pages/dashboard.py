"""Tiến độ: records by status per unit / book type / user, and approvals per day."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.review.progress import BookSequenceCounts, StatusCounts, UserActivity, progress_dashboard
from workbench.ui import charts
from workbench.ui.guard import require
from workbench.ui.labels import RECORD_STATUS_VI, page_warning_vi

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
    st.altair_chart(charts.status_bars([(g.label, g.by_status) for g in groups], group_label), width="stretch")
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
    st.altair_chart(charts.activity_bars([
        (a.username, {"Đã duyệt": a.approved, "Chuyển tổ kiểm tra": a.flagged, "Bỏ qua": a.skipped})
        for a in activity
    ]), width="stretch")
    st.dataframe(frame, hide_index=True, width="stretch")


def sequence_alarms(books: list[BookSequenceCounts]) -> None:
    """Books whose registration numbers skip or repeat: a registration may have been lost."""
    if not books:
        st.info("Không có sổ nào bị thiếu hoặc trùng số đăng ký.")
        return
    st.dataframe(pd.DataFrame([
        {"Đơn vị": b.unit_name, "Sổ": b.label, "Trang có cảnh báo": b.pages_with_warnings,
         "Chỗ thiếu số": b.gaps, "Số bị thiếu": b.missing_numbers, "Số bị trùng": b.repeats}
        for b in books
    ]), hide_index=True, width="stretch")
    st.dataframe(pd.DataFrame([
        {"Sổ": b.label, "Trang": page_index, "Cảnh báo": page_warning_vi(warning)}
        for b in books for page_index, warning in b.warnings
    ]), hide_index=True, width="stretch")


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
    st.altair_chart(charts.per_day_bars(dashboard.approved_per_day), width="stretch")
unit_tab, type_tab, user_tab, sequence_tab = st.tabs(
    ["Theo đơn vị", "Theo loại sổ", "Theo người dùng", f"Thiếu/trùng số đăng ký ({len(dashboard.sequence_by_book)})"]
)
with unit_tab:
    chart_and_table(dashboard.by_unit, "Đơn vị")
with type_tab:
    chart_and_table(dashboard.by_book_type, "Loại sổ")
with user_tab:
    user_activity(dashboard.by_user)
with sequence_tab:
    sequence_alarms(dashboard.sequence_by_book)
