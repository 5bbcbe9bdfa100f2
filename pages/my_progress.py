"""Tiến độ của tôi: what I approved today and what remains in my units."""

from __future__ import annotations

import streamlit as st

from models import Role
from workbench.progress import my_progress
from workbench.ui.guard import require
from workbench.ui.navigation import VERIFY, to_st_page

ctx = require(Role.OFFICIAL, Role.SUPERVISOR)
st.title("Tiến độ của tôi")
with ctx.session() as (session, user):
    strip = my_progress(session, user)
first, second, third, fourth = st.columns(4)
first.metric("Tôi đã duyệt hôm nay", strip.approved_today_by_me)
second.metric("Đơn vị đã duyệt hôm nay", strip.unit_approved_today)
third.metric("Đơn vị còn lại", strip.unit_remaining)
fourth.metric("Tổng số bản ghi của đơn vị", strip.unit_total)
if strip.unit_total:
    done = strip.unit_total - strip.unit_remaining
    st.progress(done / strip.unit_total, text=f"Đơn vị đã hoàn thành {done:d}/{strip.unit_total:d} bản ghi")
st.page_link(to_st_page(VERIFY), label="Tiếp tục xác minh", icon=":material/fact_check:")
