"""The verification page in book order (issue #15 item 6), through Streamlit's AppTest: the head says
where the record sits in the book, "previous record" shows an approved record read-only, Alt+End's
button comes back, and undoing the last approval reopens that record and then returns to the one the
official was on. (The keys themselves: tests/e2e/test_verify_book_order.py in Chromium.)"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import Record, RecordStatus, User
from tests.conftest import record_ids
from tests.test_app_pages import open_page, signed_in_app
from workbench.context import Workbench


def _head(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "quyển " in m.value and "dòng " in m.value)


def _name_input(at: AppTest) -> str:
    return next(w.key for w in at.text_input if w.key and w.key.startswith("fld-") and
                w.label == "Họ và tên người được khai sinh")


def test_position_previous_record_and_undo_on_the_page(
    app_env: Workbench, users: dict[str, User], sample_book_id: int,
    sessions: sessionmaker[Session],
) -> None:
    ids = record_ids(sessions, sample_book_id)
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    assert not at.exception
    assert "**trang 1/1 · dòng 1/6** · sổ còn 6/6 bản ghi chưa duyệt" in _head(at)  # book order: row 1 first
    assert at.button(key="verify-undo").disabled  # nothing approved yet
    at.button(key="verify-approve").click()
    at.run()
    assert "dòng 2/6" in _head(at) and "sổ còn 5/6" in _head(at)
    assert not at.button(key="verify-undo").disabled
    assert "dòng 1 trang 1" in at.button(key="verify-undo").label

    # Previous record: row 1, approved by me, shown read-only (no form), with the way back.
    at.button(key="verify-prev").click()
    at.run()
    assert not at.exception
    assert "dòng 1/6" in _head(at)
    assert any("Bạn đã duyệt bản ghi này" in i.value for i in at.info)
    assert not [w for w in at.text_input if w.key and w.key.startswith("fld-")]
    at.button(key="verify-prev").click()  # the book's first record: said so, nothing moves
    at.run()
    assert "dòng 1/6" in _head(at)
    assert any("bản ghi đầu tiên" in i.value for i in at.info)
    at.button(key="verify-back").click()
    at.run()
    assert "dòng 2/6" in _head(at) and _name_input(at)

    # Undo: row 1 opens again for me with its values; approving it returns to row 2.
    at.button(key="verify-undo").click()
    at.run()
    assert not at.exception
    assert "dòng 1/6" in _head(at)
    with sessions() as session:
        record = session.get(Record, ids[0])
        assert (record.status, record.assigned_to_id) == (RecordStatus.IN_REVIEW, users["official"].id)
    assert any("Đã hoàn tác lần duyệt bản ghi dòng 1 trang 1" in t.value for t in at.toast)
    at.text_input(key=_name_input(at)).input("Trần Thị Mẫu Sửa Lại")
    at.button(key="verify-approve").click()
    at.run()
    assert "dòng 2/6" in _head(at)
    with sessions() as session:
        record = session.get(Record, ids[0])
        assert record.status == RecordStatus.APPROVED
        assert {f.key: f.final_value for f in record.fields}["full_name"] == "Trần Thị Mẫu Sửa Lại"
        assert session.get(Record, ids[1]).assigned_to_id == users["official"].id  # row 2 stayed mine
