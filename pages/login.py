"""Đăng nhập: username + password; lock-out and messages come from workbench.auth."""

from __future__ import annotations

import streamlit as st

from workbench.auth import AuthError, LoginPolicy, authenticate
from workbench.db import transaction
from workbench.ui.plain import plain
from workbench.ui.remember import remember
from workbench.ui.resources import get_workbench
from workbench.ui.session import session_expired, sign_in

wb = get_workbench()
_, middle, _ = st.columns([1, 2, 1])
with middle:
    st.title("Số hoá sổ hộ tịch")
    st.caption("Đăng nhập để tiếp tục")
    if session_expired(st.session_state):
        st.info("Phiên làm việc đã hết hạn do không hoạt động. Vui lòng đăng nhập lại.")
    with st.form("login", enter_to_submit=True):
        username = st.text_input("Tên đăng nhập", key="login_username")
        password = st.text_input("Mật khẩu", type="password", key="login_password")
        submitted = st.form_submit_button("Đăng nhập", type="primary")
    message = st.empty()

if submitted:
    policy = LoginPolicy(wb.settings.max_failed_logins, wb.settings.lockout_minutes)
    failure: AuthError | None = None
    # The failed-attempt counter must be committed even when the login fails.
    with transaction(wb.sessions) as session:
        try:
            user = authenticate(session, username, password, policy)
            sign_in(st.session_state, user)
            remember(st.session_state, user.id)
        except AuthError as exc:
            failure = exc
    if failure is not None:
        message.error(plain(failure.message_vi))
    else:
        st.rerun()
