"""End to end in a real headless Chromium: log in as an official, correct one field and approve with
the keyboard only, then check the database holds the corrected value and the audit events.

Needs the Debian `chromium` package (`make test` installs it) and Playwright's Python client; the
browser Playwright would download is never used. Screenshots of every page visited are left in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, FieldStatus, FieldValue, Record, RecordStatus, User
from tests.browser_harness import launch_chromium, new_page, open_page, settle_after, wait_until_idle
from tests.e2e.conftest import FIRST_FIELD_FOCUSED, PASSWORD, SCREENSHOTS, USERNAME, WAIT_MS
from workbench.context import Workbench

pytestmark = pytest.mark.browser

CORRECTED_NAME = "Nguyễn Thị Thử Nghiệm"


def test_official_corrects_and_approves_with_the_keyboard(app_url: str, e2e_workbench: Workbench) -> None:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, {"width": 1600, "height": 1000}, WAIT_MS)
            page.goto(app_url)

            # Log in with the keyboard: type, Tab, type, Enter.
            page.get_by_label("Tên đăng nhập").wait_for()
            wait_until_idle(page)
            page.screenshot(path=SCREENSHOTS / "01-dang-nhap.png")
            page.get_by_label("Tên đăng nhập").focus()
            page.keyboard.type(USERNAME)
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            settle_after(page, lambda: page.keyboard.press("Enter"))

            # The verification page opens with the first field focused: no mouse needed.
            page.get_by_role("heading", name="Xác minh bản ghi").wait_for()
            page.wait_for_function(FIRST_FIELD_FOCUSED)
            page.screenshot(path=SCREENSHOTS / "02-xac-minh.png", full_page=True)

            # Enter moves field by field; the large cell crop follows the focused field.
            page.keyboard.press("Enter")
            page.keyboard.press("Enter")
            page.wait_for_function("document.activeElement?.getAttribute('aria-label') === "
                                   "'Họ và tên người được khai sinh'")
            page.wait_for_function(
                "document.getElementById('wb-crop-label').textContent === 'Họ và tên người được khai sinh'"
            )
            page.keyboard.press("Control+a")
            page.keyboard.type(CORRECTED_NAME)
            page.screenshot(path=SCREENSHOTS / "03-sua-truong.png", full_page=True)

            # Down to the last field: the crop panel stays in view (sticky) and shows that cell.
            for _ in range(9):
                page.keyboard.press("Enter")
            page.wait_for_function("document.getElementById('wb-crop-label').textContent === 'Ghi chú'")
            crop_box = page.locator("#wb-crop-img").bounding_box()
            assert crop_box is not None and 0 <= crop_box["y"] < 1000
            page.screenshot(path=SCREENSHOTS / "04-truong-cuoi.png")

            # One keystroke approves and loads the next record.
            page.keyboard.press("Control+Enter")
            page.get_by_text("Đã duyệt bản ghi dòng").wait_for()
            page.wait_for_function(FIRST_FIELD_FOCUSED)
            page.screenshot(path=SCREENSHOTS / "05-ban-ghi-tiep-theo.png", full_page=True)

            # Without OCR every field is red (nothing was read): approving it unseen asks for a confirmation
            # naming the fields (issue #15); focus starts on "Quay lại sửa", so Tab then Enter approves.
            page.keyboard.press("Control+Enter")
            page.get_by_role("dialog").get_by_text("chưa được xem").wait_for()
            # The dialog's script moves the focus a moment after it is drawn: wait for it, then for Tab's.
            page.wait_for_function("document.activeElement?.closest('.st-key-verify-confirm-back') != null")
            page.keyboard.press("Tab")
            page.wait_for_function("document.activeElement?.closest('.st-key-verify-confirm-approve') != null")
            page.keyboard.press("Enter")
            page.get_by_text("Đã duyệt bản ghi dòng 2").wait_for()

            # A reload (F5) keeps the login: the browser's session cookie is honoured.
            page.reload()
            page.get_by_role("heading", name="Xác minh bản ghi").wait_for()
            assert page.get_by_label("Tên đăng nhập").count() == 0

            open_page(page, "Tiến độ của tôi")
            page.get_by_role("heading", name="Tiến độ của tôi").wait_for()
            page.screenshot(path=SCREENSHOTS / "06-tien-do-cua-toi.png", full_page=True)
        finally:
            browser.close()

    with e2e_workbench.sessions() as session:
        user = session.scalar(select(User).where(User.username == USERNAME))
        approved = session.scalars(
            select(Record).where(Record.approved_by_id == user.id).order_by(Record.row_index)
        ).all()
        assert [(r.row_index, r.status) for r in approved] == [(1, RecordStatus.APPROVED), (2, RecordStatus.APPROVED)]
        record, one_key = approved
        assert {f.status for f in one_key.fields} == {FieldStatus.CONFIRMED}
        name = session.scalar(select(FieldValue).where(FieldValue.record_id == record.id,
                                                       FieldValue.key == "full_name"))
        assert (name.final_value, name.status) == (CORRECTED_NAME, FieldStatus.CORRECTED)
        events = session.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)).all()
        corrections = [e for e in events if e.action == "correct" and e.entity_id == name.id]
        assert len(corrections) == 1
        assert corrections[0].new_value["value"] == CORRECTED_NAME
        assert any(e.action == "approve" and e.entity_id == record.id for e in events)
