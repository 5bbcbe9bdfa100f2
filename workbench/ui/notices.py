"""One-shot messages that survive the `st.rerun()` after an action (e.g. "Đã duyệt…")."""

from __future__ import annotations

import streamlit as st

from workbench.ui.plain import plain

_KEY = "pending_notices"
_SHOW = {"info": st.info, "warning": st.warning, "error": st.error}


def push(kind: str, message: str) -> None:
    st.session_state.setdefault(_KEY, [])
    st.session_state[_KEY] = [*st.session_state[_KEY], (kind, message)]


def show() -> None:
    """Successes become toasts (they must not push the form down); problems stay inline. Messages
    carry names, file names and service errors: always shown literally."""
    for kind, message in st.session_state.pop(_KEY, []):
        if kind == "success":
            st.toast(plain(message), icon=":material/check_circle:")
        else:
            _SHOW.get(kind, st.info)(plain(message))
