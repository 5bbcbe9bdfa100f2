"""Keep a signed-in browser signed in across page reloads (F5) until logout or idle expiry.

Streamlit forgets `st.session_state` on reload. A random token in a cookie maps to the user in a
server-side table held in memory (a server restart means logging in again); the table applies the
same idle timeout and absolute lifetime as the session, and logout revokes the token.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from models import User
from workbench.policy import SessionPolicy
from workbench.ui.session import SignedIn, sign_in, sign_out

COOKIE_NAME = "wb_session"


@dataclass
class _Entry:
    user_id: int
    last_seen: datetime
    issued_at: datetime  # the login: the token dies max_hours after it, however busy


class SessionTokens:
    """Thread-safe token -> user table (one per server process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def issue(self, user_id: int, now: datetime | None = None) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = now or datetime.now(UTC)
            self._entries[token] = _Entry(user_id, now, now)
        return token

    def resolve(self, token: str | None, idle_minutes: int, now: datetime | None = None,
                max_hours: float = SessionPolicy.max_hours) -> int | None:
        """The user of a live token (refreshing its activity time); expired tokens are dropped."""
        entry = self._live(token, SessionPolicy(idle_minutes, max_hours), now or datetime.now(UTC))
        return entry.user_id if entry else None

    def issued_at(self, token: str | None) -> datetime | None:
        with self._lock:
            entry = self._entries.get(token or "")
            return entry.issued_at if entry else None

    def _live(self, token: str | None, policy: SessionPolicy, now: datetime) -> _Entry | None:
        if not token:
            return None
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if not policy.alive(entry.issued_at, entry.last_seen, now):
                del self._entries[token]
                return None
            entry.last_seen = now
            return entry

    def revoke(self, token: str | None) -> None:
        with self._lock:
            self._entries.pop(token or "", None)


@st.cache_resource(show_spinner=False)
def token_table() -> SessionTokens:
    return SessionTokens()


def cookie_token() -> str | None:
    """The token the browser sent when this page was (re)loaded."""
    try:
        return st.context.cookies.get(COOKIE_NAME)
    except (AttributeError, RuntimeError):  # no browser request (bare script runs)
        return None


def cookie_script(token: str | None) -> str:
    """JS that stores the token in the browser (or deletes it when `token` is None)."""
    value = json.dumps(token or "")
    expiry = "" if token else "; max-age=0"
    return (
        "<script>(function(){var secure = location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{COOKIE_NAME}=' + encodeURIComponent({value}) + '; path=/; SameSite=Strict'"
        f" + '{expiry}' + secure;}})();</script>"
    )


_TOKEN_KEY = "session_token"
_COOKIE_ACTION_KEY = "cookie_action"  # ("set", token) or ("clear", None), written once by the app


def remember(state: MutableMapping[Any, Any], user_id: int) -> None:
    """After a successful login: issue a token and ask the app to store it in the browser."""
    token = token_table().issue(user_id)
    state[_TOKEN_KEY] = token
    state[_COOKIE_ACTION_KEY] = ("set", token)


def forget(state: MutableMapping[Any, Any]) -> None:
    """Logout: revoke the token, forget the session, and ask the app to delete the cookie."""
    token_table().revoke(state.get(_TOKEN_KEY))
    sign_out(state)
    state[_COOKIE_ACTION_KEY] = ("clear", None)


def keep_alive(state: MutableMapping[Any, Any], idle_minutes: int,
               max_hours: float = SessionPolicy.max_hours) -> None:
    token_table().resolve(state.get(_TOKEN_KEY), idle_minutes, max_hours=max_hours)


def restore(state: MutableMapping[Any, Any], factory: sessionmaker[Session], idle_minutes: int,
            max_hours: float = SessionPolicy.max_hours) -> SignedIn | None:
    """After a reload: sign the browser back in from its cookie, if the token is still live."""
    token = cookie_token()
    user_id = token_table().resolve(token, idle_minutes, max_hours=max_hours)
    if user_id is None:
        return None
    with factory() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            token_table().revoke(token)
            return None
        identity = sign_in(state, user, started=token_table().issued_at(token))  # a reload keeps the age
    state[_TOKEN_KEY] = token
    return identity


def pending_cookie_script(state: MutableMapping[Any, Any]) -> str | None:
    """The one-off cookie JS the app must render in this run, if any."""
    action = state.pop(_COOKIE_ACTION_KEY, None)
    if action is None:
        return None
    return cookie_script(action[1] if action[0] == "set" else None)
