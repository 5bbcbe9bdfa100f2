"""One-shot messages that survive the `st.rerun()` after an action (e.g. "Đã duyệt…")."""

from __future__ import annotations

import streamlit as st

_KEY = "pending_notices"
_SHOW = {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}


def push(kind: str, message: str) -> None:
    st.session_state.setdefault(_KEY, [])
    st.session_state[_KEY] = [*st.session_state[_KEY], (kind, message)]


def show() -> None:
    for kind, message in st.session_state.pop(_KEY, []):
        _SHOW.get(kind, st.info)(message)
