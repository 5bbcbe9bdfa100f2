"""Người dùng: create accounts; per account: units, role, password reset, lock-out, (de)activation.

Every action is a workbench.accounts.admin service, which checks whose accounts this admin manages. Actions
run in widget callbacks: a callback runs before the page is drawn again, so it may empty the
password fields (a widget's value cannot be changed once the widget is on the page).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from models import Role, User
from workbench.accounts.admin import (
    UserSummary,
    assignable_units,
    create_user_account,
    list_users,
    reset_password,
    set_active,
    set_role,
    set_user_units,
    unlock_user,
)
from workbench.accounts.auth import local_time_text
from workbench.ui import notices
from workbench.ui.guard import require
from workbench.ui.labels import ROLE_VI
from workbench.ui.plain import plain

ctx = require(Role.ADMIN)
_NEW = ("new-user-name", "new-user-full-name", "new-user-password", "new-user-units")
_FORM_ERROR = "admin-users-form-error"  # shown inside the form it belongs to, not at the page top


def _status(u: UserSummary) -> str:
    if not u.active:
        return "Đã vô hiệu hoá"
    if u.locked_until is not None:
        return f"Tạm khoá đến {local_time_text(u.locked_until)}"
    return "Đổi mật khẩu khi đăng nhập" if u.must_change_password else "Đang hoạt động"


def _run(where: str, action: Callable[[Session, User], object], done: str) -> bool:
    """One service call through ``ctx.run``; a refusal is kept for the form named `where`."""
    def keep(message_vi: str) -> None:
        st.session_state[_FORM_ERROR] = (where, message_vi)

    if not ctx.run(action, done, refused=keep).ok:
        return False
    st.session_state.pop(_FORM_ERROR, None)
    return True


def _act(where: str, action: Callable[[Session, User], object], done: str) -> None:
    """`_run` as a button callback: Streamlit's on_click takes a function that returns None."""
    _run(where, action, done)


def _form_error(where: str) -> None:
    """The refusal of this form's last submit, shown once beside it."""
    kept = st.session_state.get(_FORM_ERROR)
    if kept and kept[0] == where:
        del st.session_state[_FORM_ERROR]
        st.error(plain(kept[1]))


def _create() -> None:
    state = st.session_state
    username = str(state.get("new-user-name", ""))
    created = _run("create", lambda session, user: create_user_account(
        session, user, username=username, password=str(state.get("new-user-password", "")),
        role=str(state.get("new-user-role")), unit_ids=list(state.get("new-user-units", [])),
        full_name=str(state.get("new-user-full-name", ""))), f"Đã tạo người dùng {username}.")
    if created:
        for key in _NEW:
            state[key] = [] if key == "new-user-units" else ""
    else:
        state["new-user-password"] = ""  # never left in the browser after a submit


def _reset_password(user_id: int, username: str) -> None:
    state = st.session_state
    new, again = str(state.get(f"reset-new-{user_id}", "")), str(state.get(f"reset-again-{user_id}", ""))
    state[f"reset-new-{user_id}"] = state[f"reset-again-{user_id}"] = ""
    if new != again:
        state[_FORM_ERROR] = ("password", "Hai lần nhập mật khẩu mới không khớp.")
        return
    _run("password", lambda session, user: reset_password(session, user, user_id, new),
         f"Đã đặt lại mật khẩu cho {username}; người dùng phải đổi mật khẩu khi đăng nhập.")


st.title("Người dùng")
notices.show()
with ctx.session() as (session, user):
    users = list_users(session, user)
    units = {u.id: u.path for u in assignable_units(session, user)}

st.dataframe(pd.DataFrame([
    {"Tên đăng nhập": u.username, "Họ tên": u.full_name, "Vai trò": ROLE_VI.get(u.role, u.role),
     "Đơn vị": ", ".join(u.unit_names), "Trạng thái": _status(u)}
    for u in users
], columns=["Tên đăng nhập", "Họ tên", "Vai trò", "Đơn vị", "Trạng thái"]), hide_index=True, width="stretch")

with st.expander("Thêm người dùng", expanded=not users), st.form("new-user", clear_on_submit=False):
    st.text_input("Tên đăng nhập", key="new-user-name")
    st.text_input("Họ tên", key="new-user-full-name")
    st.text_input("Mật khẩu (ít nhất 8 ký tự)", type="password", key="new-user-password")
    st.selectbox("Vai trò", list(ROLE_VI), format_func=lambda role: ROLE_VI[role], key="new-user-role")
    st.multiselect("Đơn vị phụ trách", list(units), format_func=lambda uid: units[uid], key="new-user-units",
                   placeholder="Chọn đơn vị")
    _form_error("create")
    st.form_submit_button("Tạo người dùng", type="primary", on_click=_create)

if users:
    st.subheader("Sửa người dùng")
    by_id = {u.id: u for u in users}
    chosen = st.selectbox("Người dùng", list(by_id), key="edit-user",
                          format_func=lambda uid: f"{by_id[uid].username} ({ROLE_VI.get(by_id[uid].role, '')})")
    target = by_id[chosen]
    st.caption(f"Trạng thái: {plain(_status(target))}")
    units_tab, role_tab, password_tab, status_tab = st.tabs(["Đơn vị", "Vai trò", "Mật khẩu", "Trạng thái"])
    with units_tab:
        st.multiselect("Đơn vị phụ trách", list(units), default=[i for i in target.unit_ids if i in units],
                       format_func=lambda uid: units[uid], key=f"edit-units-{chosen}", placeholder="Chọn đơn vị")
        _form_error("units")
        st.button("Lưu đơn vị", key=f"save-units-{chosen}", on_click=lambda: _act(
            "units", lambda session, user: set_user_units(
                session, user, chosen, list(st.session_state[f"edit-units-{chosen}"])),
            "Đã lưu đơn vị phụ trách."))
    with role_tab:
        roles = list(ROLE_VI)
        st.selectbox("Vai trò mới", roles, index=roles.index(target.role) if target.role in roles else 0,
                     format_func=lambda role: ROLE_VI[role], key=f"edit-role-{chosen}")
        _form_error("role")
        st.button("Đổi vai trò", key=f"save-role-{chosen}", on_click=lambda: _act(
            "role", lambda session, user: set_role(session, user, chosen, str(st.session_state[f"edit-role-{chosen}"])),
            f"Đã đổi vai trò của {target.username}."))
    with password_tab, st.form(f"reset-password-{chosen}", clear_on_submit=False):
        st.text_input("Mật khẩu mới (ít nhất 8 ký tự)", type="password", key=f"reset-new-{chosen}")
        st.text_input("Nhập lại mật khẩu mới", type="password", key=f"reset-again-{chosen}")
        st.caption("Người dùng sẽ phải đổi mật khẩu này khi đăng nhập; tài khoản đang tạm khoá sẽ được mở khoá.")
        _form_error("password")
        st.form_submit_button("Đặt lại mật khẩu", type="primary",
                              on_click=_reset_password, args=(chosen, target.username))
    with status_tab:
        _form_error("status")
        if target.locked_until is not None:
            until = local_time_text(target.locked_until)
            st.warning(f"Tài khoản đang tạm khoá do đăng nhập sai nhiều lần, đến {plain(until)}.")
            st.button("Mở khoá đăng nhập", key=f"unlock-{chosen}", on_click=lambda: _act(
                "status", lambda session, user: unlock_user(session, user, chosen),
                f"Đã mở khoá đăng nhập cho {target.username}."))
        st.button("Vô hiệu hoá tài khoản" if target.active else "Kích hoạt lại tài khoản",
                  key=f"toggle-active-{chosen}", on_click=lambda: _act(
            "status", lambda session, user: set_active(session, user, chosen, not target.active),
            "Đã vô hiệu hoá tài khoản." if target.active else "Đã kích hoạt lại tài khoản."))
