"""Issue #15: Ctrl+Enter pressed at once after a one-letter fix is never lost, and never approves the old
value. Real headless Chromium at 1366x768, keyboard only.

The typing also goes to the server as a draft (workbench/ui/draft_sync.py, 0.6 s after the last key), in
a script run of its own. That run used to replace the run carrying the approval (Streamlit drops a button
press when a newer run preempts the run that carried it), so a fix typed and approved within 0.6 s was
silently lost: the record stayed open, no message. Here five records are each opened on a wrong letter
in the child's name, the right letter is typed and Ctrl+Enter pressed at once (first row) or up to
0.55 s later (the others, so the draft's run overlaps the approval's on a fast machine too); every record
must be approved with the typed name, one after another, once, and no draft may be left behind.

Screenshots go to test-artifacts/screenshots/ (and to $SHOTS_DIR when set).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEvent, FieldStatus, FieldValue, Record, RecordDraft, RecordStatus
from tests.browser_harness import ROOT, screenshot_folders, signed_in_page, wait_until_idle
from tests.e2e.conftest import PASSWORD, SCREENSHOTS, USERNAME, WAIT_MS
from workbench.context import Workbench
from workbench.db import transaction

pytestmark = pytest.mark.browser

TRUTH = ROOT / "samples" / "books" / "khai_sinh" / "truth.json"
NAME_LABEL = "Họ và tên người được khai sinh"
ROWS = 5
# How long after the typed letter Ctrl+Enter comes, per row: at once, then later within the draft's 0.6 s
# debounce, so the draft's run lands during the approval's run however fast this machine runs it.
PAUSES_S = (0.0, 0.25, 0.4, 0.5, 0.55)
WRONG_AT = 8  # the letter of the name read wrong (and doubtful) in every seeded row
WRONG_LETTER = "b"
SURE, DOUBT = 0.98, 0.4
FOCUSED_LABEL = "document.activeElement?.getAttribute('aria-label')"
SELECTION = "[document.activeElement.selectionStart, document.activeElement.selectionEnd]"


def _chars(value: str, doubtful: int | None = None) -> list[list[Any]]:
    """[char, confidence, x0, x1] per stored character, as the recognizer stores them."""
    return [[ch, DOUBT if i == doubtful else SURE, 14 * i, 14 * i + 13] for i, ch in enumerate(value)]


def seed_one_wrong_letter(wb: Workbench) -> list[tuple[int, str]]:
    """Rows 1..ROWS read right and sure from truth.json, except one doubtful wrong letter in the child's
    name; returns (record id, the right name) per row, in book order."""
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))["pages"][0]["records"]
    seeded = []
    with transaction(wb.sessions) as session:
        records = session.scalars(select(Record).order_by(Record.page_id, Record.row_index)).all()[:ROWS]
        for record, row in zip(records, truth[:ROWS], strict=True):
            for field in session.scalars(select(FieldValue).where(FieldValue.record_id == record.id)):
                value = row["fields"][field.key]["value"]
                confidence, chars = 0.97, _chars(value)
                if field.key == "full_name":
                    value = value[:WRONG_AT] + WRONG_LETTER + value[WRONG_AT + 1:]
                    confidence, chars = 0.72, _chars(value, WRONG_AT)
                field.proposed_value, field.confidence, field.char_confidences = value, confidence, chars
                field.engine = "asternet"
            record.confidence = 0.72
            seeded.append((record.id, row["fields"]["full_name"]["value"]))
    return seeded


def _wait_for_approval(wb: Workbench, record_id: int, seconds: float = 25) -> Record:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with wb.sessions() as session:
            record = session.get(Record, record_id)
            if record.status == RecordStatus.APPROVED:
                session.expunge(record)
                return record
        time.sleep(0.2)
    pytest.fail(f"Ctrl+Enter pressed right after typing was lost: record {record_id} was never approved")


def _name(wb: Workbench, record_id: int) -> tuple[str | None, str]:
    with wb.sessions() as session:
        field = session.scalar(select(FieldValue).where(FieldValue.record_id == record_id,
                                                        FieldValue.key == "full_name"))
        return field.final_value, field.status


def test_ctrl_enter_right_after_typing_approves_the_typed_value(app_url: str, e2e_workbench: Workbench) -> None:
    seeded = seed_one_wrong_letter(e2e_workbench)
    folders = screenshot_folders(SCREENSHOTS)

    def shot(page: Any, name: str) -> None:
        for folder in folders:
            page.screenshot(path=folder / name)

    with signed_in_page(app_url, USERNAME, PASSWORD, WAIT_MS, keyboard=True,
                        on_failure=lambda page: shot(page, "F9-loi.png")) as page:  # the screen when a wait ran out
        for row, ((record_id, right_name), pause) in enumerate(zip(seeded, PAUSES_S, strict=True), start=1):
            # The record opens on the wrong letter, selected: typing the right one replaces it.
            page.wait_for_function(
                f"document.activeElement?.closest('[class*=\"st-key-fld-{record_id}-\"]') != null"
                f" && {FOCUSED_LABEL} === {NAME_LABEL!r} && {SELECTION}.join() === '{WRONG_AT},{WRONG_AT + 1}'")
            wait_until_idle(page)
            page.keyboard.type(right_name[WRONG_AT])
            if pause:
                time.sleep(pause)  # an official's own pace, still inside the draft's debounce
            page.keyboard.press("Control+Enter")  # the draft of that letter is still to be sent
            _wait_for_approval(e2e_workbench, record_id)
            assert _name(e2e_workbench, record_id) == (right_name, FieldStatus.CORRECTED)
            page.get_by_text(f"Đã duyệt bản ghi dòng {row} trang 1 (1 trường được sửa).").wait_for()
        shot(page, "F1-duyet-ngay-sau-khi-go.png")

    with e2e_workbench.sessions() as session:
        for record_id, _ in seeded:
            approvals = session.scalars(select(AuditEvent).where(
                AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id,
                AuditEvent.action == "approve")).all()
            assert len(approvals) == 1  # approved once, with the typed value (checked above)
        assert session.scalars(select(RecordDraft)).all() == []
