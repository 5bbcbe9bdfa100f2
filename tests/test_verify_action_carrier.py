"""Issue #15: an action pressed on the verification form survives a script run that preempts its own.

keyboard.js writes {"action", "id"} into the form's hidden action input before the press submits the
form. Streamlit drops the press (a one-shot trigger) when a newer run, such as the typing's draft,
preempts the run that carried it; the carrier is an ordinary value, so the next run does the action
with the values the form carried, once. (The race itself, in Chromium: tests/e2e/test_verify_fast_approval.py.)
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import AuditEvent, FieldStatus, FieldValue, Record, RecordStatus, User
from tests.conftest import record_ids
from tests.test_app_pages import open_page, signed_in_app
from workbench.context import Workbench
from workbench.ui.keyboard import FormAction, carried_action, form_action

NAME_LABEL = "Họ và tên người được khai sinh"


def _carrier(at: AppTest) -> str:
    return next(w.key for w in at.text_input if w.key and w.key.startswith("action-"))


def _carry(at: AppTest, kind: str, request_id: str) -> None:
    """The carrier as a submitted form leaves it (AppTest holds a form's inputs until a submit button is
    clicked, and a click is the press this test drops: the state is set directly)."""
    at.session_state[_carrier(at)] = json.dumps({"action": kind, "id": request_id})


def _approvals(sessions: sessionmaker[Session], record_id: int) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id,
            AuditEvent.action == "approve")) or 0)


def test_carried_action_is_parsed_strictly() -> None:
    assert carried_action('{"action": "approve", "id": "k1"}') == FormAction("approve", "k1")
    for raw in ("", None, "[]", "nonsense", '{"action": "delete", "id": "k"}', '{"action": "approve", "id": ""}',
                '{"action": "approve", "id": 7}', '{"action": "approve"}'):
        assert carried_action(raw) is None, raw


def test_form_action_prefers_the_press_then_an_unhandled_carried_action() -> None:
    carried = FormAction("approve", "k1")
    nothing = {"approve": False, "save": False, "flag": False, "skip": False}
    assert form_action({**nothing, "approve": True}, carried, ()) == carried
    assert form_action({**nothing, "save": True}, carried, ()) == FormAction("save", "")  # a click, no script
    assert form_action(nothing, carried, ()) == carried  # the press's own run was preempted
    assert form_action(nothing, carried, ("k1",)) is None  # done already: never twice
    assert form_action(nothing, None, ()) is None


def test_an_approval_whose_run_was_preempted_is_done_by_the_next_run_once(
    app_env: Workbench, users: dict[str, User], sample_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    first, second = record_ids(sessions, sample_book_id)[:2]
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    assert not at.exception
    name_key = next(w.key for w in at.text_input if w.key and w.key.startswith(f"fld-{first}-") and
                    w.label == NAME_LABEL)
    # The form was submitted (values and carrier sent) but its press was dropped: no button click here.
    at.session_state[name_key] = "Trần Thị Mẫu Sửa"
    _carry(at, "approve", "press-1")
    at.run()
    assert not at.exception
    assert any("Đã duyệt bản ghi dòng 1 trang 1" in t.value for t in at.toast)
    with sessions() as session:
        assert session.get(Record, first).status == RecordStatus.APPROVED
        name = session.scalar(select(FieldValue).where(FieldValue.record_id == first, FieldValue.key == "full_name"))
        assert (name.final_value, name.status) == ("Trần Thị Mẫu Sửa", FieldStatus.CORRECTED)

    # The next record's form has its own carrier; the same press again (a stale copy) does nothing.
    assert _carrier(at).startswith(f"action-{second}-")
    _carry(at, "approve", "press-1")
    at.run()
    at.run()
    assert not at.exception
    assert _approvals(sessions, first) == 1
    assert _approvals(sessions, second) == 0
    with sessions() as session:
        assert session.get(Record, second).status != RecordStatus.APPROVED
