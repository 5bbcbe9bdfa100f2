"""Issue #15 item 2: approving with a validator error or an unseen amber/red field needs a named
confirmation. The rule (workbench.review.approval_checks) on real record views of a real DB file, and the
page's dialog in Streamlit's AppTest: nothing is approved until the explicit "Vẫn duyệt"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldStatus, Record, RecordStatus, User
from ocr.fields import ValidationContext
from tests.conftest import record_ids
from tests.test_app_pages import _field_inputs, open_page, signed_in_app
from workbench.context import Workbench
from workbench.review.approval_checks import (
    NOT_VISITED,
    approval_concerns,
    audit_payload,
    concern_lines_vi,
    fields_to_save,
)
from workbench.review.queue import claim_record
from workbench.review.record_view import RecordView, get_record_view
from workbench.review.review import save_record

TODAY = ValidationContext(today=date(2026, 12, 7))


def _view(call: Callable[..., Any], user: User, record_id: int) -> RecordView:
    call(claim_record, user, record_id)
    return call(get_record_view, user, record_id)


def _rules(concerns: tuple[Any, ...]) -> list[tuple[str, str]]:
    return [(c.key, c.rule) for c in concerns]


@pytest.fixture()
def green(call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
          sessions: sessionmaker[Session]) -> RecordView:
    """The 0.99-confidence record of the sample book: every field green and valid."""
    return _view(call, users["official"], record_ids(sessions, sample_book_id)[1])


@pytest.fixture()
def amber(call: Callable[..., Any], users: dict[str, User], sample_book_id: int,
          sessions: sessionmaker[Session]) -> RecordView:
    """The 0.7-confidence record: every field amber."""
    return _view(call, users["official"], record_ids(sessions, sample_book_id)[3])


def test_a_clean_green_record_needs_no_confirmation(green: RecordView) -> None:
    assert {f.band for f in green.fields} == {"high"}
    assert approval_concerns(green.fields, green.values, visited=(), context=TODAY) == ()


def test_an_impossible_date_is_named_by_field_and_rule(green: RecordView) -> None:
    typed = {**green.values, "birth_date": "31/02/2003"}
    concerns = approval_concerns(green.fields, typed, visited={"birth_date"}, context=TODAY)
    assert _rules(concerns) == [("birth_date", "invalid_calendar_date")]
    assert concern_lines_vi(concerns) == ["Ngày, tháng, năm sinh: Ngày 31/02/2003 không có trên lịch"]
    assert audit_payload(concerns) == [{"field": "birth_date", "rule": "invalid_calendar_date",
                                        "message": "Ngày 31/02/2003 không có trên lịch"}]


def test_digits_in_a_name_and_a_birth_after_registration_are_errors(green: RecordView) -> None:
    typed = {**green.values, "mother_name": "Trần Thị M4u", "birth_date": "03/04/2005",
             "registration_date": "03/04/2001"}
    concerns = approval_concerns(green.fields, typed, visited=(), context=TODAY)
    assert _rules(concerns) == [("birth_date", "birth_after_registration"), ("mother_name", "digits_in_name")]


def test_warnings_and_notes_do_not_ask(green: RecordView) -> None:
    # A partial date is a note and a two-digit year a warning: both are left to the official's eye.
    typed = {**green.values, "birth_date": "04/2001", "registration_date": "03/04/01"}
    assert approval_concerns(green.fields, typed, visited=(), context=TODAY) == ()


def test_amber_fields_never_visited_are_named_and_visiting_clears_them(amber: RecordView) -> None:
    keys = [f.key for f in amber.fields]
    assert {f.band for f in amber.fields} == {"medium"}
    concerns = approval_concerns(amber.fields, amber.values, visited=keys[:2], context=TODAY)
    assert _rules(concerns) == [(key, NOT_VISITED) for key in keys[2:]]
    lines = concern_lines_vi(concerns)
    assert len(lines) == 1 and lines[0].startswith(f"Trường màu vàng/đỏ chưa được xem ({len(keys) - 2}): ")
    assert "Họ và tên người được khai sinh" in lines[0]
    assert approval_concerns(amber.fields, amber.values, visited=keys, context=TODAY) == ()


def test_an_edited_or_earlier_decided_amber_field_needs_no_visit(
    amber: RecordView, call: Callable[..., Any], users: dict[str, User]
) -> None:
    keys = [f.key for f in amber.fields]
    others = [k for k in keys if k not in ("full_name", "sex")]
    typed = {**amber.values, "full_name": "Trần Thị Mẫn"}  # changed: it was seen
    saved = call(save_record, users["official"], amber.record_id, amber.version, {"sex": "Nữ"}, "save")
    assert saved.fields_confirmed == 1  # sex decided by a person before (Ctrl+S)
    again = call(get_record_view, users["official"], amber.record_id)
    assert approval_concerns(again.fields, typed, visited=others, context=TODAY) == ()


def test_save_stores_only_changed_or_visited_fields(amber: RecordView) -> None:
    typed = {**amber.values, "full_name": "Trần Thị Mẫn"}
    assert fields_to_save(amber.fields, typed, visited={"sex"}) == {"full_name": "Trần Thị Mẫn", "sex": "Nữ"}


def _approve_events(sessions: sessionmaker[Session], record_id: int) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "record", AuditEvent.entity_id == record_id, AuditEvent.action == "approve")))


def test_confirmed_concerns_go_into_the_approve_event(
    green: RecordView, call: Callable[..., Any], users: dict[str, User], sessions: sessionmaker[Session]
) -> None:
    typed = {"birth_date": "31/02/2003"}
    concerns = approval_concerns(green.fields, {**green.values, **typed}, visited=(), context=TODAY)
    call(save_record, users["official"], green.record_id, green.version, typed, "approve", confirmed=concerns)
    [event] = _approve_events(sessions, green.record_id)
    assert event.new_value["confirmed_concerns"] == [
        {"field": "birth_date", "rule": "invalid_calendar_date", "message": "Ngày 31/02/2003 không có trên lịch"}]


def _toasts(at: Any) -> list[str]:
    return [t.value.replace("\\", "") for t in at.toast]  # notices are shown through plain() (escaped)


# --- the page: Duyệt opens a confirmation; only "Vẫn duyệt" approves ----------------------------------

def test_page_asks_before_approving_an_impossible_date_and_audits_the_confirmation(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    box = _field_inputs(at)["Ngày, tháng, năm sinh"]
    record_id = int(box.key.split("-")[1])
    box.input("31/02/2003")
    at.button(key="verify-approve").click()
    at.run()
    assert not at.exception
    dialog_text = " ".join(m.value for m in at.markdown)
    assert "Ngày, tháng, năm sinh: Ngày 31/02/2003 không có trên lịch" in dialog_text.replace("\\", "")
    with sessions() as session:
        assert session.get(Record, record_id).status != RecordStatus.APPROVED  # asked, not approved

    at.button(key="verify-confirm-back").click()  # "Quay lại sửa": still not approved, dialog gone
    at.run()
    assert not any(b.key == "verify-confirm-approve" for b in at.button)
    with sessions() as session:
        assert session.get(Record, record_id).status != RecordStatus.APPROVED

    at.button(key="verify-approve").click()
    at.run()
    at.button(key="verify-confirm-approve").click()  # "Vẫn duyệt": the explicit confirmation
    at.run()
    assert not at.exception
    assert any("Đã duyệt" in t and "(1 trường được sửa)" in t for t in _toasts(at))
    with sessions() as session:
        record = session.get(Record, record_id)
        assert record.status == RecordStatus.APPROVED
        birth = next(f for f in record.fields if f.key == "birth_date")
        assert (birth.final_value, birth.status) == ("31/02/2003", FieldStatus.CORRECTED)
    [event] = _approve_events(sessions, record_id)
    assert [c["rule"] for c in event.new_value["confirmed_concerns"]] == ["invalid_calendar_date"]


def test_approval_message_counts_corrections_saved_earlier(
    app_env: Workbench, users: dict[str, User], sample_book_id: int
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    inputs = _field_inputs(at)
    inputs["Họ và tên người được khai sinh"].input("Trần Thị Mẫn")
    inputs["Họ và tên mẹ"].input("Trần Thị Mận")
    at.button(key="verify-save").click()  # Ctrl+S: both corrections stored, same record stays open
    at.run()
    at.button(key="verify-approve").click()  # nothing new typed: the old count said "0"
    at.run()
    assert not at.exception
    assert any("(2 trường được sửa)" in t for t in _toasts(at)), _toasts(at)
