"""The admin's "Người dùng" page (issue #16 item 10) in Streamlit's AppTest, on a real SQLite file:
create (the password field is emptied), reset a password, change a role, clear a lock-out,
(de)activate, the last-admin guard, a unit admin's narrower view; and the login page's lock-out
message with its end time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Role, Unit, User
from tests.conftest import PASSWORD
from tests.test_app_pages import log_in, new_app, open_page, signed_in_app
from workbench.accounts.auth import local_time_text
from workbench.context import Workbench
from workbench.db import transaction
from workbench.ui.plain import plain

PAGE = "app_pages/admin_users.py"
LOCAL_TIME = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


def admin_page(user: User) -> AppTest:
    at = open_page(signed_in_app(user), PAGE)
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str) -> Any:
    [found] = [b for b in at.button if b.label == label]
    return found


def choose_user(at: AppTest, username: str, sessions: sessionmaker[Session]) -> AppTest:
    with sessions() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    return at.selectbox(key="edit-user").set_value(user_id).run()


def table(at: AppTest) -> dict[str, dict[str, str]]:
    frame = at.dataframe[0].value
    return {row["Tên đăng nhập"]: row for row in frame.to_dict("records")}


def shown_errors(at: AppTest) -> list[str]:
    """Error texts as the browser shows them (the page escapes Markdown: workbench.ui.plain)."""
    return [e.value.replace("\\", "") for e in at.error]


def events(sessions: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_creating_a_user_empties_the_password_field(
    app_env: Workbench, users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    at = admin_page(users["admin"])
    at.text_input(key="new-user-name").input("canbo_moi")
    at.text_input(key="new-user-password").input("ngan")  # too short: refused, the name is kept
    at = button(at, "Tạo người dùng").click().run()
    assert shown_errors(at) == ["Mật khẩu phải có ít nhất 8 ký tự"]
    assert at.text_input(key="new-user-name").value == "canbo_moi"
    assert at.text_input(key="new-user-password").value == ""

    at.text_input(key="new-user-password").input("mat-khau-du-dai")
    at.multiselect(key="new-user-units").set_value([units["xa_a"]])
    at = button(at, "Tạo người dùng").click().run()
    assert not at.error and not at.exception
    assert at.text_input(key="new-user-password").value == ""
    assert at.text_input(key="new-user-name").value == ""
    assert table(at)["canbo_moi"]["Đơn vị"] == "Xã Tân Lập"
    with sessions() as session:
        assert session.scalar(select(User.role).where(User.username == "canbo_moi")) == Role.OFFICIAL


def test_admin_resets_a_password_changes_a_role_and_clears_a_lock_out(
    app_env: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    until = datetime.now(UTC) + timedelta(minutes=12)
    with transaction(sessions) as session:
        session.execute(update(User).where(User.username == "official").values(locked_until=until, failed_logins=0))
    at = choose_user(admin_page(users["admin"]), "official", sessions)
    status = f"Tạm khoá đến {local_time_text(until)}"
    assert table(at)["official"]["Trạng thái"] == status
    assert any(plain(local_time_text(until)) in w.value for w in at.warning)  # Markdown source: "08\\:56"

    at = button(at, "Mở khoá đăng nhập").click().run()
    assert table(at)["official"]["Trạng thái"] == "Đang hoạt động"
    assert [e.old_value["failed_logins"] for e in events(sessions, "unlock")] == [0]

    at.text_input(key=f"reset-new-{users['official'].id}").input("mat-khau-moi-1")
    at.text_input(key=f"reset-again-{users['official'].id}").input("mat-khau-moi-2")
    at = button(at, "Đặt lại mật khẩu").click().run()
    assert shown_errors(at) == ["Hai lần nhập mật khẩu mới không khớp."]
    at.text_input(key=f"reset-new-{users['official'].id}").input("mat-khau-moi-1")
    at.text_input(key=f"reset-again-{users['official'].id}").input("mat-khau-moi-1")
    at = button(at, "Đặt lại mật khẩu").click().run()
    assert not at.error
    assert at.text_input(key=f"reset-new-{users['official'].id}").value == ""
    with sessions() as session:
        official = session.scalar(select(User).where(User.username == "official"))
        assert PasswordHasher().verify(official.password_hash, "mat-khau-moi-1")
        assert official.must_change_password
    assert table(at)["official"]["Trạng thái"] == "Đổi mật khẩu khi đăng nhập"
    assert [e.actor for e in events(sessions, "password_reset")] == ["admin"]

    at.selectbox(key=f"edit-role-{users['official'].id}").set_value(Role.SUPERVISOR)
    at = button(at, "Đổi vai trò").click().run()
    assert table(at)["official"]["Vai trò"] == "Tổ kiểm tra"
    [changed] = events(sessions, "set_role")
    assert (changed.old_value, changed.new_value) == ("official", "supervisor")

    at = button(at, "Vô hiệu hoá tài khoản").click().run()
    assert table(at)["official"]["Trạng thái"] == "Đã vô hiệu hoá"
    at = button(at, "Kích hoạt lại tài khoản").click().run()
    assert table(at)["official"]["Trạng thái"] == "Đổi mật khẩu khi đăng nhập"


def test_the_last_admin_cannot_demote_or_deactivate_themselves(
    app_env: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    at = choose_user(admin_page(users["admin"]), "admin", sessions)
    at.selectbox(key=f"edit-role-{users['admin'].id}").set_value(Role.OFFICIAL)
    at = button(at, "Đổi vai trò").click().run()
    assert shown_errors(at) == ["Không thể thực hiện: hệ thống sẽ không còn quản trị viên nào hoạt động."]
    at = button(at, "Vô hiệu hoá tài khoản").click().run()
    assert shown_errors(at) == ["Không thể tự khoá tài khoản của mình."]
    with sessions() as session:
        admin = session.get(User, users["admin"].id)
        assert (admin.role, admin.active) == (Role.ADMIN, True)


def test_a_unit_admin_sees_and_gives_only_its_units(
    app_env: Workbench, users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        district_admin = User(username="qt_huyen", password_hash="!", role=Role.ADMIN)
        district_admin.units = [session.get(Unit, units["huyen"])]
        session.add(district_admin)
    at = admin_page(district_admin)
    # Its district's communes' accounts and its own; not the other district's, not the system admin.
    assert set(table(at)) == {"official", "official2", "supervisor", "contractor", "qt_huyen"}
    offered = at.multiselect(key="new-user-units").options
    assert len(offered) == 3 and not any("Lộc" in name for name in offered)


def test_login_lock_out_message_says_until_when(
    app_env: Workbench, users: dict[str, User], sessions: sessionmaker[Session],
) -> None:
    at = new_app()
    for _ in range(app_env.settings.max_failed_logins):
        at = log_in(at, "official", "sai-mat-khau")
    at = log_in(at, "official", PASSWORD)
    with sessions() as session:
        until = session.scalar(select(User.locked_until).where(User.username == "official"))
    [message] = shown_errors(at)
    assert local_time_text(until) in message and LOCAL_TIME.search(message), message
    assert "signed_in" not in at.session_state
