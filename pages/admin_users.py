"""Người dùng: create accounts, set roles' units, deactivate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Role
from workbench.admin import create_user_account, list_units, list_users, set_active, set_user_units
from workbench.errors import ServiceError
from workbench.ui import notices
from workbench.ui.guard import require
from workbench.ui.labels import ROLE_VI
from workbench.ui.plain import plain

ctx = require(Role.ADMIN)
st.title("Người dùng")
notices.show()
with ctx.session() as (session, user):
    users = list_users(session, user)
    units = {u.id: u.path for u in list_units(session, user)}

st.dataframe(pd.DataFrame([
    {"Tên đăng nhập": u.username, "Họ tên": u.full_name, "Vai trò": ROLE_VI.get(u.role, u.role),
     "Đơn vị": ", ".join(u.unit_names), "Hoạt động": "có" if u.active else "khoá"}
    for u in users
]), hide_index=True, width="stretch")

with st.expander("Thêm người dùng", expanded=not users), st.form("new-user", clear_on_submit=False):
    username = st.text_input("Tên đăng nhập", key="new-user-name")
    full_name = st.text_input("Họ tên", key="new-user-full-name")
    password = st.text_input("Mật khẩu (ít nhất 8 ký tự)", type="password", key="new-user-password")
    role = st.selectbox("Vai trò", list(ROLE_VI), format_func=lambda role: ROLE_VI[role], key="new-user-role")
    unit_ids = st.multiselect("Đơn vị phụ trách", list(units), format_func=lambda uid: units[uid], key="new-user-units",
                              placeholder="Chọn đơn vị")
    if st.form_submit_button("Tạo người dùng", type="primary"):
        try:
            with ctx.session() as (session, user):
                create_user_account(session, user, username=username, password=password, role=str(role),
                                    unit_ids=list(unit_ids), full_name=full_name)
        except ServiceError as exc:
            st.error(plain(exc.message_vi))
        else:
            notices.push("success", f"Đã tạo người dùng {username}.")
            st.rerun()

if users:
    st.subheader("Sửa người dùng")
    by_id = {u.id: u for u in users}
    chosen = st.selectbox("Người dùng", list(by_id), key="edit-user",
                          format_func=lambda uid: f"{by_id[uid].username} ({ROLE_VI.get(by_id[uid].role, '')})")
    target = by_id[chosen]
    new_units = st.multiselect("Đơn vị phụ trách", list(units), default=[i for i in target.unit_ids if i in units],
                               format_func=lambda uid: units[uid], key=f"edit-units-{chosen}",
                               placeholder="Chọn đơn vị")
    save_col, active_col = st.columns(2)
    try:
        if save_col.button("Lưu đơn vị", key=f"save-units-{chosen}"):
            with ctx.session() as (session, user):
                set_user_units(session, user, chosen, list(new_units))
            notices.push("success", "Đã lưu đơn vị phụ trách.")
            st.rerun()
        label = "Khoá tài khoản" if target.active else "Mở khoá tài khoản"
        if active_col.button(plain(label), key=f"toggle-active-{chosen}"):
            with ctx.session() as (session, user):
                set_active(session, user, chosen, not target.active)
            notices.push("success", "Đã cập nhật trạng thái tài khoản.")
            st.rerun()
    except ServiceError as exc:
        st.error(plain(exc.message_vi))
