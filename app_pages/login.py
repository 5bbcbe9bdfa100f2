"""Đăng nhập: username + password; lock-out and messages come from workbench.accounts.auth.

An account with a published password (the demo users) must set a new one before anything else:
it is signed in only after the change-password form succeeds.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from models import User
from workbench.accounts.auth import AuthError, authenticate, change_password
from workbench.db import transaction
from workbench.ui.plain import plain
from workbench.ui.remember import remember
from workbench.ui.resources import get_workbench
from workbench.ui.session import session_expired, sign_in

_PENDING = "password_change_user_id"  # authenticated, not yet signed in: must change the password

wb = get_workbench()


def _finish(user: User) -> None:
    sign_in(st.session_state, user)
    remember(st.session_state, user.id)
    st.rerun()


def _change_password_form(user_id: int) -> None:
    st.warning("Mật khẩu hiện tại là mật khẩu mặc định hoặc do quản trị viên vừa đặt lại. "
               "Hãy đặt mật khẩu mới để tiếp tục.")
    with st.form("change-password", enter_to_submit=True):
        current = st.text_input("Mật khẩu hiện tại", type="password", key="change_current")
        new = st.text_input("Mật khẩu mới", type="password", key="change_new")
        again = st.text_input("Nhập lại mật khẩu mới", type="password", key="change_again")
        submitted = st.form_submit_button("Đổi mật khẩu", type="primary")
    if not submitted:
        return
    if new != again:
        st.error("Hai lần nhập mật khẩu mới không khớp.")
        return
    user = _auth_step(lambda session: change_password(session, user_id, current, new))
    if user is None:
        return
    del st.session_state[_PENDING]
    _finish(user)


def _auth_step(step: Callable[[Session], User]) -> User | None:
    """Run one sign-in step in its own transaction (a failed attempt's counters are committed
    too); its refusal is shown in Vietnamese and None returned."""
    try:
        with transaction(wb.sessions) as session:
            return step(session)
    except AuthError as exc:
        st.error(plain(exc.message_vi))
        return None


def _login_form() -> None:
    if session_expired(st.session_state):
        st.info("Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.")
    with st.form("login", enter_to_submit=True):
        username = st.text_input("Tên đăng nhập", key="login_username")
        password = st.text_input("Mật khẩu", type="password", key="login_password")
        submitted = st.form_submit_button("Đăng nhập", type="primary")
    if not submitted:
        return
    policy = wb.settings.login_policy()
    user = _auth_step(lambda session: authenticate(session, username, password, policy))
    if user is None:
        return
    if user.must_change_password:
        st.session_state[_PENDING] = user.id
        st.rerun()
    _finish(user)


_, middle, _ = st.columns([1, 2, 1])
with middle:
    st.title("Số hoá sổ hộ tịch")
    pending = st.session_state.get(_PENDING)
    if isinstance(pending, int):
        st.caption("Đổi mật khẩu")
        _change_password_form(pending)
    else:
        st.caption("Đăng nhập để tiếp tục")
        _login_form()
