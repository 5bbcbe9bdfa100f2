"""Issue #15 items 1-3 in a real headless Chromium at 1366x768, keyboard only: a reload of /xac-minh
lands on the verification page (no "Page not found" modal), a typed correction survives F5 (server
draft), Ctrl+Enter never approves behind a dialog, an impossible date or unseen red fields need a
confirmation that names them, and the approval message counts corrections saved earlier with Ctrl+S.

Screenshots go to test-artifacts/screenshots/ (and to $SHOTS_DIR when set).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models import AuditEvent, FieldStatus, Record, RecordDraft, RecordStatus
from tests.browser_harness import open_page, screenshot_folders, signed_in_page, wait_until_idle
from tests.e2e.conftest import FIRST_FIELD_FOCUSED, PASSWORD, SCREENSHOTS, USERNAME, WAIT_MS
from workbench.context import Workbench

pytestmark = pytest.mark.browser

NAME_LABEL = "Họ và tên người được khai sinh"
BIRTH_LABEL = "Ngày, tháng, năm sinh"
TYPED_NAME = "Nguyễn Văn Nháp"
RETYPED_NAME = "Nguyễn Văn Nhạn"
IMPOSSIBLE_DATE = "31/02/2003"
FOCUSED_LABEL = "document.activeElement?.getAttribute('aria-label')"


def _first_record(wb: Workbench) -> Record:
    with wb.sessions() as session:
        record = session.scalars(select(Record).order_by(Record.page_id, Record.row_index)).first()
        session.expunge(record)
        return record


def _wait_for_draft(wb: Workbench, record_id: int, key: str, value: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with wb.sessions() as session:
            draft = session.scalar(select(RecordDraft).where(RecordDraft.record_id == record_id))
            if draft is not None and draft.values.get(key) == value:
                return
        time.sleep(0.2)
    pytest.fail(f"the typing never reached the server as a draft of record {record_id}")


def _status(wb: Workbench, record_id: int) -> str:
    with wb.sessions() as session:
        return session.get(Record, record_id).status


def test_typing_survives_reload_and_nothing_is_approved_unseen(app_url: str, e2e_workbench: Workbench) -> None:
    folders = screenshot_folders(SCREENSHOTS)
    record_id = _first_record(e2e_workbench).id

    def shot(page: object, name: str) -> None:
        for folder in folders:
            page.screenshot(path=folder / name)  # type: ignore[attr-defined]

    with signed_in_page(app_url, USERNAME, PASSWORD, WAIT_MS, keyboard=True) as page:
        page.wait_for_function(FIRST_FIELD_FOCUSED)

        # Another page, then the verification page's own URL reloaded: it lands on the page, focus in
        # the first field, and no modal ("Page not found" used to take the focus here).
        open_page(page, "Tiến độ của tôi")
        page.get_by_role("heading", name="Tiến độ của tôi").wait_for()
        page.goto(f"{app_url}/xac-minh")
        page.reload()
        page.get_by_role("heading", name="Xác minh bản ghi").wait_for()
        page.wait_for_function(FIRST_FIELD_FOCUSED)
        page.wait_for_timeout(1000)  # a modal would have arrived by now
        assert page.get_by_role("dialog").count() == 0
        shot(page, "A1-tai-lai-xac-minh.png")

        # Type a correction, then reload: the server kept it, the form shows it, the official is told.
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        assert page.evaluate(FOCUSED_LABEL) == NAME_LABEL
        page.keyboard.type(TYPED_NAME)
        _wait_for_draft(e2e_workbench, record_id, "full_name", TYPED_NAME)
        page.reload()
        page.wait_for_function(FIRST_FIELD_FOCUSED)
        assert page.get_by_label(NAME_LABEL).input_value() == TYPED_NAME
        page.get_by_text("Đã khôi phục 1 trường bạn đã gõ nhưng chưa lưu").wait_for()
        assert page.get_by_role("dialog").count() == 0
        shot(page, "A2-khoi-phuc-ban-nhap.png")

        # F5 straight after typing (before the server heard of it): the tab's copy refills the form
        # and reaches the server.
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")  # focus no longer selects the value (issue #15 item 4): Esc does
        # The Enter presses moved the focus, which sends the draft and reruns the page: typed while that
        # rerun redraws the form, letters can go to the input being replaced (CI of b5650a1+2 lost them
        # so). What is tested is a reload straight after typing: the typing starts on a settled form.
        wait_until_idle(page)
        page.keyboard.type(RETYPED_NAME)
        page.reload()
        page.wait_for_function(FIRST_FIELD_FOCUSED)
        page.wait_for_function("([label, value]) => [...document.querySelectorAll('input')]"
                               ".some((el) => el.getAttribute('aria-label') === label && el.value === value)",
                               arg=[NAME_LABEL, RETYPED_NAME])
        _wait_for_draft(e2e_workbench, record_id, "full_name", RETYPED_NAME)
        page.get_by_text("Đã khôi phục 1 trường bạn đã gõ nhưng chưa lưu").wait_for()

        # Ctrl+Enter at once: the red fields nobody looked at are named; focus is on "Quay lại sửa".
        page.keyboard.press("Control+Enter")
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Trường màu vàng/đỏ chưa được xem (9)").wait_for()
        assert BIRTH_LABEL in dialog.inner_text() and NAME_LABEL not in dialog.inner_text()
        page.wait_for_function("document.activeElement?.textContent === 'Quay lại sửa (Enter)'")
        shot(page, "A3-hoi-truoc-khi-duyet.png")
        page.keyboard.press("Control+Enter")  # no approval behind (or inside) a dialog
        page.wait_for_timeout(1500)
        assert _status(e2e_workbench, record_id) != RecordStatus.APPROVED
        page.keyboard.press("Enter")  # back to the form, on the first field named
        page.wait_for_function(f"{FOCUSED_LABEL} === {BIRTH_LABEL!r}")
        assert page.get_by_role("dialog").count() == 0
        assert _status(e2e_workbench, record_id) != RecordStatus.APPROVED

        # Ctrl+S stores the name; then an impossible birth date, every field visited, Ctrl+Enter.
        page.keyboard.press("Control+s")
        page.get_by_text("Đã lưu; các thông báo kiểm tra đã được cập nhật.").wait_for()
        page.wait_for_function(f"{FOCUSED_LABEL} === {BIRTH_LABEL!r}")
        wait_until_idle(page)  # as above: typed on a settled form, not into a redraw
        page.keyboard.type(IMPOSSIBLE_DATE)
        for _ in range(8):
            page.keyboard.press("Enter")
        page.wait_for_function(f"{FOCUSED_LABEL} === 'Ghi chú'")
        page.keyboard.press("Control+Enter")
        dialog.get_by_text("không có trên lịch").wait_for()
        lines = dialog.inner_text()
        assert f"{BIRTH_LABEL}: Ngày {IMPOSSIBLE_DATE} không có trên lịch" in lines
        assert "chưa được xem" not in lines
        shot(page, "A4-ngay-khong-co-tren-lich.png")
        page.wait_for_function("document.activeElement?.textContent === 'Quay lại sửa (Enter)'")
        page.keyboard.press("Tab")  # the explicit confirmation: Tab to "Vẫn duyệt", Enter
        page.wait_for_function("document.activeElement?.closest('.st-key-verify-confirm-approve') != null")
        page.keyboard.press("Enter")
        page.get_by_text("Đã duyệt bản ghi dòng 1 trang 1 (2 trường được sửa).").wait_for()
        page.wait_for_function(FIRST_FIELD_FOCUSED)
        shot(page, "A5-da-duyet.png")

    with e2e_workbench.sessions() as session:
        record = session.get(Record, record_id)
        assert record.status == RecordStatus.APPROVED
        values = {f.key: (f.final_value, f.status) for f in record.fields}
        assert values["full_name"] == (RETYPED_NAME, FieldStatus.CORRECTED)
        assert values["birth_date"] == (IMPOSSIBLE_DATE, FieldStatus.CORRECTED)
        [approve] = session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id, AuditEvent.action == "approve"))
        assert approve.new_value["confirmed_concerns"] == [
            {"field": "birth_date", "rule": "invalid_calendar_date",
             "message": f"Ngày {IMPOSSIBLE_DATE} không có trên lịch"}]
        assert session.scalars(select(RecordDraft)).all() == []
