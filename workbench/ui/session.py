"""Who is signed in to this browser session, and when the session expires from inactivity."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from models import User
from workbench.policy import SessionPolicy

_KEY = "signed_in"
_EXPIRED_KEY = "session_expired"


@dataclass(frozen=True)
class SignedIn:
    """The browser session's identity; the ORM user is re-loaded per request from `user_id`."""

    user_id: int
    username: str
    full_name: str
    role: str
    last_seen: datetime
    signed_in_at: datetime | None = None  # set by sign_in; None: taken as last_seen at the next touch

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def signed_in(state: MutableMapping[Any, Any]) -> SignedIn | None:
    value = state.get(_KEY)
    return value if isinstance(value, SignedIn) else None


def sign_in(state: MutableMapping[Any, Any], user: User, now: datetime | None = None,
            started: datetime | None = None) -> SignedIn:
    """`started`: when the login happened, if earlier (a reload restores the session, not its age)."""
    now = now or datetime.now(UTC)
    identity = SignedIn(user.id, user.username, user.full_name, user.role, now, started or now)
    state[_KEY] = identity
    state.pop(_EXPIRED_KEY, None)
    return identity


def sign_out(state: MutableMapping[Any, Any]) -> None:
    """Forget the identity and every per-user page state (claims expire on their own)."""
    for key in list(state.keys()):
        del state[key]


def touch(state: MutableMapping[Any, Any], idle_minutes: int, now: datetime | None = None,
          max_hours: float = SessionPolicy.max_hours) -> SignedIn | None:
    """Refresh the activity time, or sign out (remembering why) after `idle_minutes` idle or
    `max_hours` after login."""
    identity = signed_in(state)
    if identity is None:
        return None
    now = now or datetime.now(UTC)
    started = identity.signed_in_at or identity.last_seen
    if not SessionPolicy(idle_minutes, max_hours).alive(started, identity.last_seen, now):
        sign_out(state)
        state[_EXPIRED_KEY] = True
        return None
    refreshed = replace(identity, last_seen=now, signed_in_at=started)
    state[_KEY] = refreshed
    return refreshed


def session_expired(state: MutableMapping[Any, Any]) -> bool:
    return bool(state.get(_EXPIRED_KEY))


def load_user(session: Session, identity: SignedIn) -> User | None:
    """The signed-in user as stored now; None if deleted or deactivated meanwhile."""
    user = session.get(User, identity.user_id)
    return user if user is not None and user.active else None
