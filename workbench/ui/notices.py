"""One-shot messages that survive the `st.rerun()` after an action (e.g. "Đã duyệt…"), and pinned
messages that stay on screen until the user dismisses them (an upload's outcome: issue #16 item 7)."""

from __future__ import annotations

import streamlit as st

from workbench.ui.plain import plain

_KEY = "pending_notices"
_PINNED = "pinned_notices"
_SHOW = {"info": st.info, "warning": st.warning, "error": st.error, "success": st.success}


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


def pin(slot: str, messages: list[tuple[str, str]]) -> None:
    """Replace the messages pinned in `slot` (e.g. one book's last upload); they outlive reruns."""
    pinned = dict(st.session_state.get(_PINNED, {}))
    pinned[slot] = list(messages)
    st.session_state[_PINNED] = pinned


def show_pinned(slot: str, dismiss_label: str = "Đã đọc, ẩn thông báo") -> None:
    """The slot's messages, shown literally, until the user presses the dismiss button (a toast or a
    message written just before st.rerun() is gone before anyone can read it)."""
    messages = st.session_state.get(_PINNED, {}).get(slot)
    if not messages:
        return
    for kind, message in messages:
        _SHOW.get(kind, st.info)(plain(message))
    if st.button(plain(dismiss_label), key=f"dismiss-{slot}"):
        pinned = dict(st.session_state.get(_PINNED, {}))
        pinned.pop(slot, None)
        st.session_state[_PINNED] = pinned
        st.rerun()
