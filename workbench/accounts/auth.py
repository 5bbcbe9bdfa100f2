"""Users, argon2 password hashes, login with lock-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Role, Unit, User
from workbench.audit import record_event
from workbench.errors import ServiceError
from workbench.policy import LoginPolicy

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
# An unknown (or deactivated, or system) account is checked against this hash, with the same cost
# as a real one, so the answer time does not tell which account names exist.
_DUMMY_HASH = _hasher.hash("not-a-password: timing equaliser")
# Officials read times in Vietnam's time (UTC+7 all year, no daylight saving); the database keeps UTC.
LOCAL_TZ = timezone(timedelta(hours=7), "ICT")


class AuthError(ServiceError):
    """Login or user-management failure; `message_vi` is shown to the user."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    unit_names: list[str] | None = None,
    full_name: str = "",
    actor: User | None = None,
    must_change_password: bool = False,
) -> User:
    username = username.strip()
    if role not in {r.value for r in Role}:
        raise AuthError(f"Unknown role '{role}'", f"Vai trò không hợp lệ: {role}")
    if not username:
        raise AuthError("Username is empty", "Tên đăng nhập trống")
    if username.startswith("@"):  # reserved for service accounts (workbench.scope.SYSTEM_USERNAME)
        raise AuthError("Usernames may not start with '@'", "Tên đăng nhập không được bắt đầu bằng '@'")
    check_new_password(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AuthError(f"User '{username}' already exists", f"Người dùng '{username}' đã tồn tại")
    units = []
    for name in unit_names or []:
        unit = session.scalar(select(Unit).where(Unit.name == name))
        if unit is None:
            raise AuthError(f"Unknown unit '{name}'", f"Không tìm thấy đơn vị '{name}'")
        units.append(unit)
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name,
                must_change_password=must_change_password)
    user.units = units
    session.add(user)
    session.flush()
    record_event(
        session, actor=actor, entity_type="user", entity_id=user.id, action="create",
        new={"username": username, "role": role, "units": [u.name for u in units]},
    )
    return user


def authenticate(session: Session, username: str, password: str, policy: LoginPolicy = LoginPolicy()) -> User:
    """Return the user or raise AuthError; repeated failures lock the account for a while."""
    now = datetime.now(UTC)
    user = session.scalar(select(User).where(User.username == username.strip()))
    generic = AuthError("Invalid username or password", "Sai tên đăng nhập hoặc mật khẩu")
    if user is None or not user.active:
        _spend_a_verification(password)
        raise generic
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        raise lockout_error(user.id, locked_until)
    try:
        _hasher.verify(user.password_hash, password)
    except InvalidHashError:  # an account that cannot log in (the system account): same cost, same answer
        _spend_a_verification(password)
        _count_failure(session, user.id, policy, now)
        raise generic from None
    except VerificationError:
        _count_failure(session, user.id, policy, now)
        raise generic from None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_event(session, actor=user, entity_type="user", entity_id=user.id, action="login")
    return user


def change_password(session: Session, user_id: int, current: str, new: str) -> User:
    """The user sets a new password (required first for accounts with a published one, e.g. demo).

    Takes the id: the login page holds no signed-in user yet, only who passed `authenticate`."""
    acting = session.get(User, user_id)
    if acting is None or not acting.active:
        raise AuthError(f"User {user_id} is missing or deactivated", "Tài khoản không còn hoạt động.")
    try:
        _hasher.verify(acting.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AuthError("Current password is wrong", "Mật khẩu hiện tại không đúng") from None
    check_new_password(new)
    if new == current:
        raise AuthError("The new password equals the old one", "Mật khẩu mới phải khác mật khẩu cũ")
    acting.password_hash = hash_password(new)
    acting.must_change_password = False
    record_event(session, actor=acting, entity_type="user", entity_id=acting.id, action="password_changed")
    return acting


def local_time_text(moment: datetime) -> str:
    """'06/12/2026 14:35' in Vietnam's time; a naive moment is UTC (as SQLite hands it back)."""
    aware = _aware(moment)
    assert aware is not None
    return aware.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def lockout_error(user_id: int, locked_until: datetime) -> AuthError:
    """The refusal of a locked account, saying until when (the user may wait, or ask an admin)."""
    return AuthError(
        f"Account #{user_id} is locked until {locked_until.isoformat()}",
        f"Tài khoản tạm khoá do đăng nhập sai nhiều lần, đến {local_time_text(locked_until)}. "
        "Vui lòng thử lại sau thời điểm đó hoặc nhờ quản trị viên mở khoá.",
    )


def check_new_password(password: str) -> None:
    """The password policy, for every new password (creation, own change, admin reset)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            f"Password must have at least {MIN_PASSWORD_LENGTH} characters",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
        )


def _spend_a_verification(password: str) -> None:
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        pass


def _count_failure(session: Session, user_id: int, policy: LoginPolicy, now: datetime) -> None:
    """Count a failed login in its own committed transaction.

    The caller's transaction usually rolls back when AuthError propagates; the lock-out must
    not depend on the caller committing.
    """
    with Session(session.get_bind()) as own, own.begin():
        user = own.get(User, user_id)
        assert user is not None
        user.failed_logins += 1
        if user.failed_logins >= policy.max_failed_logins:
            user.locked_until = now + timedelta(minutes=policy.lockout_minutes)
            user.failed_logins = 0
            record_event(own, actor=None, entity_type="user", entity_id=user.id, action="locked_out")
    session.expire_all()  # the caller's copy of the user is now stale


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; they are stored in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
