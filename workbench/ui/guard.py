"""The first lines of every page: who is signed in, may they see this page, and the workbench."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from models import Role, User
from workbench.context import Workbench
from workbench.db import transaction
from workbench.errors import ServiceError
from workbench.ui import notices
from workbench.ui.plain import plain
from workbench.ui.resources import get_workbench
from workbench.ui.session import SignedIn, load_user, signed_in


@dataclass(frozen=True)
class ActionOutcome:
    """What a page's service call came to: done (and its return value), or refused (already shown)."""

    ok: bool
    value: Any = None


@dataclass(frozen=True)
class PageContext:
    wb: Workbench
    identity: SignedIn

    @contextmanager
    def session(self) -> Iterator[tuple[Session, User]]:
        """A committed-at-the-end transaction and the signed-in user loaded in it."""
        with transaction(self.wb.sessions) as session:
            user = load_user(session, self.identity)
            if user is None:
                st.error("Tài khoản không còn hoạt động. Vui lòng đăng nhập lại.")
                st.stop()
            yield session, user

    def run(self, action: Callable[[Session, User], Any], success_vi: str | Callable[[Any], str] | None,
            refused: Callable[[str], None] | None = None) -> ActionOutcome:
        """Run one service call in its own transaction: show its refusal in Vietnamese (or hand it to
        ``refused``, e.g. to keep it beside the form it belongs to), or queue the success notice
        (``success_vi``, or made from the call's return value; ``None``: no notice) for the next run.
        The one action helper of every page: pages call it and ``st.rerun()`` when ``.ok``."""
        try:
            with self.session() as (session, user):
                value = action(session, user)
        except ServiceError as exc:
            if refused is None:
                st.error(plain(exc.message_vi))
            else:
                refused(exc.message_vi)
            return ActionOutcome(False)
        if success_vi is not None:
            notices.push("success", success_vi(value) if callable(success_vi) else success_vi)
        return ActionOutcome(True, value)


def require(*roles: str) -> PageContext:
    """Stop the page unless the signed-in user has one of `roles` (admins may see every page)."""
    identity = signed_in(st.session_state)
    if identity is None:
        st.warning("Vui lòng đăng nhập.")
        st.stop()
    if identity.role != Role.ADMIN and identity.role not in roles:
        st.error("Bạn không có quyền xem trang này.")
        st.stop()
    return PageContext(get_workbench(), identity)
