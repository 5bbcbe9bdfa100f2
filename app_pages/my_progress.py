"""Tiến độ của tôi: what I approved today (per hour), which fields I kept or corrected, what remains."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.review.my_progress import my_day
from workbench.review.progress import my_progress
from workbench.ui import charts
from workbench.ui.guard import require
from workbench.ui.labels import FIELD_TYPES_SHORT_VI
from workbench.ui.navigation import VERIFY, to_st_page

PERIODS = {1: "Hôm nay", 7: "7 ngày qua", 30: "30 ngày qua"}

ctx = require(Role.OFFICIAL, Role.SUPERVISOR)
st.title("Tiến độ của tôi")
field_days = int(st.session_state.get("my-progress-days", 1) or 1)
with ctx.session() as (session, user):
    strip = my_progress(session, user)
    day = my_day(session, user, field_days=field_days)
first, second, third, fourth = st.columns(4)
first.metric("Tôi đã duyệt hôm nay", strip.approved_today_by_me)
second.metric("Đơn vị đã duyệt hôm nay", strip.unit_approved_today)
third.metric("Đơn vị còn lại", strip.unit_remaining)
fourth.metric("Tổng số bản ghi của đơn vị", strip.unit_total)
if strip.unit_total:
    done = strip.unit_total - strip.unit_remaining
    st.progress(done / strip.unit_total, text=f"Đơn vị đã hoàn thành {done:d}/{strip.unit_total:d} bản ghi")

hours_col, fields_col = st.columns(2, gap="medium")
with hours_col:
    st.subheader("Theo giờ trong ngày")
    st.altair_chart(charts.per_hour_bars(day.approved_per_hour, day.day, height=300), width="stretch")
with fields_col:
    st.subheader("Trường đã xác minh theo loại")
    st.segmented_control("Khoảng thời gian", list(PERIODS), default=1, required=True, key="my-progress-days",
                         format_func=lambda days: PERIODS[days])
    if not day.by_field_type:
        st.info("Chưa có trường nào được bạn xác nhận hoặc sửa trong khoảng thời gian này.")
    else:
        st.altair_chart(charts.kept_corrected_bars(
            [(FIELD_TYPES_SHORT_VI.get(w.field_type, w.field_type), w.confirmed, w.corrected)
             for w in day.by_field_type]),
            width="stretch")
        st.dataframe(pd.DataFrame([
            {"Loại trường": FIELD_TYPES_SHORT_VI.get(w.field_type, w.field_type), "Giữ nguyên": w.confirmed,
             "Đã sửa": w.corrected, "Tỉ lệ sửa (%)": w.corrected_percent}
            for w in day.by_field_type
        ]), hide_index=True, width="stretch")
st.page_link(to_st_page(VERIFY), label="Tiếp tục xác minh", icon=":material/fact_check:")
