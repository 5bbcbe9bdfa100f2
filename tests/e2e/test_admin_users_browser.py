"""Issue #16 item 10 in a real Chromium at 1366x768: a locked-out official is told until when; the admin
sees the lock with its end, clears it and resets the password on "Người dùng"; the official then
signs in with the new password and must set their own. Screenshots go to $WORKBENCH_SHOTS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from models import AuditEvent, User
from tests.browser_harness import VIEWPORT, login, new_page, open_page, settle_after, signed_in_page
from tests.e2e.conftest import OFFICE_ACCOUNTS, OFFICE_PASSWORD, OFFICE_SHOTS, OFFICE_WAIT_MS
from workbench.accounts.auth import local_time_text
from workbench.context import Workbench
from workbench.db import transaction

pytestmark = pytest.mark.browser
NEW_PASSWORD = "mat-khau-cap-lai-1"


def test_admin_clears_a_lock_out_and_resets_a_password(office_url: str, office: Workbench) -> None:
    official = OFFICE_ACCOUNTS["official"]
    until = datetime.now(UTC) + timedelta(minutes=15)
    with transaction(office.sessions) as session:
        session.execute(update(User).where(User.username == official).values(locked_until=until))
    OFFICE_SHOTS.mkdir(parents=True, exist_ok=True)
    with signed_in_page(office_url, official, OFFICE_PASSWORD, OFFICE_WAIT_MS) as page:
        page.get_by_text(f"đến {local_time_text(until)}").wait_for()
        page.screenshot(path=OFFICE_SHOTS / "khoa-dang-nhap.png")

        admin = new_page(page.context.browser, VIEWPORT, OFFICE_WAIT_MS)
        login(admin, office_url, OFFICE_ACCOUNTS["admin"], OFFICE_PASSWORD)
        open_page(admin, "Người dùng")
        admin.get_by_role("heading", name="Sửa người dùng").wait_for()
        admin.get_by_role("combobox", name="Người dùng").click()  # a searchable select: type, Enter
        admin.keyboard.type(official)
        admin.keyboard.press("Enter")
        admin.get_by_text(f"Trạng thái: Tạm khoá đến {local_time_text(until)}").wait_for()
        admin.get_by_role("tab", name="Trạng thái").click()
        admin.get_by_role("button", name="Mở khoá đăng nhập").scroll_into_view_if_needed()
        admin.screenshot(path=OFFICE_SHOTS / "quan-tri-thay-khoa.png")
        settle_after(admin, admin.get_by_role("button", name="Mở khoá đăng nhập").click)
        admin.get_by_text("Trạng thái: Đang hoạt động").wait_for()

        admin.get_by_role("tab", name="Mật khẩu").click()
        admin.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill(NEW_PASSWORD)
        admin.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
        settle_after(admin, admin.get_by_role("button", name="Đặt lại mật khẩu").click)
        admin.get_by_text("Trạng thái: Đổi mật khẩu khi đăng nhập").wait_for()
        assert admin.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").input_value() == ""
        admin.get_by_role("tab", name="Mật khẩu").scroll_into_view_if_needed()
        admin.screenshot(path=OFFICE_SHOTS / "quan-tri-dat-lai-mat-khau.png")

        login(page, office_url, official, NEW_PASSWORD)  # the new password works, and must be changed
        page.get_by_role("button", name="Đổi mật khẩu").wait_for()
        page.screenshot(path=OFFICE_SHOTS / "doi-mat-khau-sau-khi-dat-lai.png")
    with office.sessions() as session:
        row = session.scalar(select(User).where(User.username == official))
        assert row.locked_until is None and row.must_change_password
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == row.id,
                                                                      AuditEvent.actor == OFFICE_ACCOUNTS["admin"])))
        assert {"unlock", "password_reset"} <= actions
