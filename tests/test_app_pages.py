"""Streamlit AppTest per page: login, role-based navigation, verification, supervisor queue, contractor."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Book, FieldStatus, FieldValue, Page, Record, RecordStatus, User
from ocr.page_warnings import decode_warnings
from tests.conftest import PASSWORD, record_ids
from workbench.context import Workbench
from workbench.db import transaction
from workbench.review.review import ReviewAction, save_record
from workbench.ui import imaging
from workbench.ui.keyboard import KeyboardField, KeyboardTargets, keyboard_html
from workbench.ui.labels import page_warnings_vi
from workbench.ui.navigation import allowed_paths
from workbench.ui.remember import SessionTokens
from workbench.ui.session import SignedIn

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
TIMEOUT = 60  # first runs import the OCR field validators


def new_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def signed_in_app(user: User) -> AppTest:
    """An app whose browser session is already signed in as `user` (login itself is tested below)."""
    at = new_app()
    at.session_state["signed_in"] = SignedIn(user.id, user.username, user.full_name, user.role, datetime.now(UTC))
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(page)
    return at.run()


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [str(e.value) for e in at.exception]


def test_login_success_shows_the_role_pages(app_env: Workbench, users: dict[str, User]) -> None:
    at = log_in(new_app(), "official", PASSWORD)
    assert not errors(at)
    assert at.session_state["signed_in"].username == "official"
    assert at.header[0].value == "Xác minh bản ghi"  # the official's first page


def test_login_failure_shows_vietnamese_message_and_counts(
    app_env: Workbench, users: dict[str, User], sessions: sessionmaker[Session]
) -> None:
    at = log_in(new_app(), "official", "sai-mat-khau")
    assert [e.value for e in at.error] == ["Sai tên đăng nhập hoặc mật khẩu"]
    assert "signed_in" not in at.session_state
    with sessions() as session:
        assert session.scalar(select(User.failed_logins).where(User.username == "official")) == 1


def test_repeated_failures_lock_the_account(app_env: Workbench, users: dict[str, User]) -> None:
    at = new_app()
    for _ in range(app_env.settings.max_failed_logins):
        at = log_in(at, "official", "sai-mat-khau")
    at = log_in(at, "official", PASSWORD)  # right password, but locked now
    assert "tạm khoá" in at.error[0].value
    assert "signed_in" not in at.session_state


@pytest.mark.parametrize(
    ("role_user", "visible", "hidden"),
    [
        ("official", "app_pages/verify.py", "app_pages/admin_users.py"),
        ("supervisor", "app_pages/supervisor_queues.py", "app_pages/contractor_books.py"),
        ("contractor", "app_pages/contractor_books.py", "app_pages/supervisor_queues.py"),
        ("admin", "app_pages/admin_users.py", None),
    ],
)
def test_navigation_registers_only_the_role_pages(
    app_env: Workbench, users: dict[str, User], role_user: str, visible: str, hidden: str | None
) -> None:
    user = users[role_user]
    assert visible in allowed_paths(user.role)
    at = signed_in_app(user).run()
    at.switch_page(visible)  # registered: no error
    if hidden is not None:
        assert hidden not in allowed_paths(user.role)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(hidden)


def test_logout_returns_to_login(app_env: Workbench, users: dict[str, User]) -> None:
    at = signed_in_app(users["official"]).run()
    at.button(key="logout").click()
    at.run()
    assert "signed_in" not in at.session_state
    assert at.text_input(key="login_username") is not None


def test_idle_session_expires(app_env: Workbench, users: dict[str, User]) -> None:
    user = users["official"]
    at = new_app()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    at.session_state["signed_in"] = SignedIn(user.id, user.username, user.full_name, user.role, long_ago)
    at.run()
    assert "signed_in" not in at.session_state
    assert any("hết hạn" in i.value for i in at.info)


def _field_inputs(at: AppTest) -> dict[str, Any]:
    return {w.label: w for w in at.text_input if w.key and w.key.startswith("fld-")}


def test_verification_shows_every_field_and_approving_stores_the_correction(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    assert not at.exception
    inputs = _field_inputs(at)
    assert len(inputs) == 12  # every khai_sinh field
    assert inputs["Họ và tên người được khai sinh"].value == "Trần Thị Mẫu"
    with sessions() as session:
        held = session.scalar(select(Record).where(Record.assigned_to_id == users["official"].id))
        assert held is not None  # next_record claimed it for this official
        first_id = held.id
    inputs["Họ và tên người được khai sinh"].input("Trần Thị Mẫu Sửa")
    at.button(key="verify-approve").click()
    at.run()
    assert not at.exception
    assert any("Đã duyệt" in t.value for t in at.toast)
    with sessions() as session:
        record = session.get(Record, first_id)
        assert record.status == RecordStatus.APPROVED
        assert record.approved_by_id == users["official"].id
        name = session.scalar(select(FieldValue).where(FieldValue.record_id == first_id,
                                                       FieldValue.key == "full_name"))
        assert (name.final_value, name.status) == ("Trần Thị Mẫu Sửa", FieldStatus.CORRECTED)
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == users["official"].id)))
        assert {"correct", "confirm", "approve"} <= actions
    # The next record is loaded at once.
    next_inputs = _field_inputs(at)
    assert len(next_inputs) == 12


def test_verification_conflict_reloads_without_overwriting(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    with transaction(sessions) as session:
        record = session.scalar(select(Record).where(Record.assigned_to_id == users["official"].id))
        record_id = record.id
        record.flag_reason = "sửa bởi người khác"  # someone else's change moves the version
    _field_inputs(at)["Họ và tên người được khai sinh"].input("Không được ghi")
    at.button(key="verify-approve").click()
    at.run()
    assert any("người khác thay đổi" in w.value for w in at.warning)
    with sessions() as session:
        name = session.scalar(select(FieldValue).where(FieldValue.record_id == record_id,
                                                       FieldValue.key == "full_name"))
        assert name.final_value is None and session.get(Record, record_id).status != RecordStatus.APPROVED


def test_flag_needs_a_reason_then_goes_to_the_supervisor_queue(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    at.button(key="verify-flag").click()
    at.run()
    assert any("lý do" in e.value for e in at.error)
    reason_box = next(w for w in at.text_input if w.key and w.key.startswith("reason-"))
    reason_box.input("Chữ mờ, không đọc được tên mẹ")
    at.button(key="verify-flag").click()
    at.run()
    with sessions() as session:
        flagged = session.scalars(select(Record).where(Record.status == RecordStatus.FLAGGED)).all()
        assert [r.flag_reason for r in flagged] == ["Chữ mờ, không đọc được tên mẹ"]

    supervisor = open_page(signed_in_app(users["supervisor"]), "app_pages/supervisor_queues.py")
    assert not supervisor.exception
    table = supervisor.dataframe[0].value
    assert list(table["Mã"]) == [flagged[0].id]
    assert list(table["Lý do"]) == ["Chữ mờ, không đọc được tên mẹ"]


def test_supervisor_unflags_a_record(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
    call: Callable[..., Any],
) -> None:
    first = record_ids(sessions, sample_book_id)[0]
    with transaction(sessions) as session:
        record = session.get(Record, first)
        record.status, record.flag_reason = RecordStatus.FLAGGED, "cần xem lại"
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/supervisor_queues.py")
    at.button(key="flagged-unflag").click()
    at.run()
    assert not at.exception
    with sessions() as session:
        assert session.get(Record, first).status in (RecordStatus.PROPOSED, RecordStatus.IN_REVIEW)


def test_contractor_creates_a_book(
    app_env: Workbench, users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["contractor"]), "app_pages/contractor_books.py")
    assert not at.exception
    at.selectbox(key="new-book-unit").select(units["xa_a"])
    at.selectbox(key="new-book-type").select("ket_hon")
    at.number_input(key="new-book-year").set_value(1998)
    at.number_input(key="new-book-volume").set_value(2)
    next(b for b in at.button if b.label == "Tạo sổ").click()
    at.run()
    assert not errors(at)
    with sessions() as session:
        book = session.scalar(select(Book).where(Book.book_type == "ket_hon"))
        assert (book.unit_id, book.year_from, book.volume) == (units["xa_a"], 1998, 2)
    assert any("Kết hôn" in s or "kết hôn" in s for s in at.selectbox(key="book-pick").options)
    # Issue #16: the form is back to its defaults and closed; the same book sent again is refused.
    assert (at.selectbox(key="new-book-type").value, at.number_input(key="new-book-year").value,
            at.number_input(key="new-book-volume").value) == ("khai_sinh", 2000, 1)
    assert at.session_state["new-book-open"] is False
    at.selectbox(key="new-book-type").select("ket_hon")
    at.number_input(key="new-book-year").set_value(1998)
    at.number_input(key="new-book-volume").set_value(2)
    next(b for b in at.button if b.label == "Tạo sổ").click()
    at.run()
    assert [e.replace("\\", "") for e in errors(at)] == ["Sổ này đã có trong hệ thống."]  # plain() escapes the dot
    with sessions() as session:
        assert len(session.scalars(select(Book).where(Book.book_type == "ket_hon")).all()) == 1


def test_dashboard_and_my_progress_render(
    app_env: Workbench, users: dict[str, User], sample_book_id: int
) -> None:
    dashboard = open_page(signed_in_app(users["supervisor"]), "app_pages/dashboard.py")
    assert not dashboard.exception
    assert dashboard.metric[0].value == "6"  # SAMPLE_CONFIDENCES: six records in scope
    mine = open_page(signed_in_app(users["official"]), "app_pages/my_progress.py")
    assert not mine.exception
    assert mine.metric[0].value == "0"


def test_admin_pages_render(app_env: Workbench, users: dict[str, User]) -> None:
    for page in ("app_pages/admin_users.py", "app_pages/admin_units.py", "app_pages/admin_book_types.py"):
        at = open_page(signed_in_app(users["admin"]), page)
        assert not at.exception, page


def test_report_page_shows_phu_luc_01_for_the_supervisor_scope(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, other_book_id: int, units: dict[str, int]
) -> None:
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/report.py")
    assert not errors(at)
    table = at.dataframe[0].value
    assert list(table["Đơn vị"].str.strip())[:1] == ["Huyện Đồng Phú"]  # the supervisor's unit, not the others
    assert "Xã Lộc Tấn" not in set(table["Đơn vị"].str.strip())
    assert table["Khai sinh · Tổng số"].iloc[-1] == 6  # the grand total: the sample book's six records
    assert at.get("download_button")
    at.selectbox(key="plan-unit").select(units["huyen"])
    at.number_input(key="plan-computers").set_value(2)
    at.number_input(key="plan-quota").set_value(200)
    next(b for b in at.button if b.label == "Lưu kế hoạch").click()
    at.run()
    plans = next(d.value for d in at.dataframe if "Số máy" in d.value.columns)
    assert (plans["Số máy"].iloc[0], plans["Còn lại"].iloc[0], plans["Số ngày theo định mức"].iloc[0]) == (2, 6, 1)


def test_contractor_upload_is_processed_in_the_background_and_status_comes_from_the_db(
    app_env: Workbench, users: dict[str, User], build_book: Callable[..., int], units: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    book_id = build_book(units["xa_a"], [], book_type="khai_sinh", year=2003)
    sample = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh" / "page_001.jpg"
    at = open_page(signed_in_app(users["contractor"]), "app_pages/contractor_books.py")
    at.file_uploader(key=f"upload-{book_id}").upload(sample.name, sample.read_bytes(), "image/jpeg")
    at.checkbox(key=f"upload-ocr-{book_id}").uncheck()
    at.run()  # the button is enabled once files are chosen
    at.button(key=f"upload-go-{book_id}").click()
    at.run()
    assert not errors(at)
    deadline = time.monotonic() + 60
    while True:  # the page is processed by a background thread, not by the script run
        with sessions() as session:
            status = session.scalar(select(Page.status).where(Page.book_id == book_id))
        if status == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == "done"
    at.run()  # a fresh run (as after a reload) reads the state from the database
    status_table = next(d.value for d in at.dataframe if "Trạng thái" in d.value.columns)
    assert list(status_table["Trạng thái"]) == ["Xong"]
    assert status_table["Số dòng"].iloc[0] not in (0, "0")


def test_supervisor_opens_a_flagged_record_and_approves_it(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    first = record_ids(sessions, sample_book_id)[0]
    with transaction(sessions) as session:
        record = session.get(Record, first)
        record.status, record.flag_reason = RecordStatus.FLAGGED, "cần xem lại"
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/supervisor_queues.py")
    at.button(key="flagged-open").click()
    at.run()
    assert not at.exception
    assert at.header[0].value == "Xác minh bản ghi"
    assert any("cần xem lại" in m.value for m in at.markdown)  # the flagged record, not the next in queue
    at.switch_page("app_pages/verify.py")  # AppTest re-runs its own page unless told (a browser stays put)
    at.button(key="verify-approve").click()
    at.run()
    with sessions() as session:
        approved = session.get(Record, first)
        assert (approved.status, approved.approved_by_id) == (RecordStatus.APPROVED, users["supervisor"].id)


# --- UI helpers (pure) ---------------------------------------------------------------------------

def test_reload_tokens_expire_when_idle_and_on_logout() -> None:
    tokens = SessionTokens()
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    token = tokens.issue(7, now=start)
    assert tokens.resolve(token, 30, now=start + timedelta(minutes=20)) == 7
    assert tokens.resolve(token, 30, now=start + timedelta(minutes=45)) == 7  # activity at 20 min renewed it
    assert tokens.resolve(token, 30, now=start + timedelta(minutes=80)) is None  # 35 min idle
    other = tokens.issue(8, now=start)
    tokens.revoke(other)
    assert tokens.resolve(other, 30, now=start) is None
    assert tokens.resolve("made-up", 30) is None


def test_page_view_outlines_the_record_and_zoom_keeps_it_in_view() -> None:
    page = np.full((1000, 2000, 3), 255, np.uint8)
    box = [1500, 700, 400, 100]
    view = imaging.page_view(page, box, imaging.ViewSettings(zoom=2.0))
    assert view.shape[:2] == (500, 1000)
    red = (view[:, :, 2] > 200) & (view[:, :, 0] < 50)
    assert red.any()  # the outline is inside the zoomed window
    crop = imaging.cell_crop(page, [10, 10, 50, 20], pad=12)
    assert crop is not None and crop.shape[:2] == (20 + 10 + 12, 50 + 10 + 12)  # clipped at the page edge
    assert imaging.cell_crop(page, None) is None


def test_contrast_enhancement_darkens_faded_ink() -> None:
    faded = np.full((60, 200, 3), 235, np.uint8)
    faded[25:35, 20:180] = 190  # pale ink stroke
    stronger = imaging.enhance_contrast(faded, 3)
    gap_before = int(faded[0, 0, 0]) - int(faded[30, 100, 0])
    gap_after = int(stronger[0, 0, 0]) - int(stronger[30, 100, 0])
    assert gap_after > gap_before


def test_page_warning_labels() -> None:
    stored = ["grid_rulings", "auto_rotated:180", "blank"]
    assert page_warnings_vi(decode_warnings(stored)) == "đã tự xoay 180°, trang trắng"


def test_keyboard_helper_embeds_the_form_keys_safely() -> None:
    fields = [KeyboardField("fld-1-2-0", "Số", None), KeyboardField("fld-1-2-1", "Ghi chú </script>", "data:x")]
    targets = KeyboardTargets("verify-approve", "verify-flag", "verify-skip", "reason-1-2", "verify-save")
    html = keyboard_html("1-2", fields, targets)
    assert '"fld-1-2-1"' in html and '"verify-approve"' in html
    assert "</script>\"" not in html and html.count("</script>") == 1  # labels cannot close the script


def test_save_keeps_the_record_and_reruns_the_validators(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in_app(users["official"]), "app_pages/verify.py")
    field_box = _field_inputs(at)["Ngày, tháng, năm sinh"]
    record_id = int(field_box.key.split("-")[1])
    assert not any("⚠" in h.proto.body for h in at.get("html"))  # the synthetic dates are valid
    field_box.input("31/02/2001")
    at.button(key="verify-save").click()
    at.run()
    assert not at.exception
    assert int(_field_inputs(at)["Ngày, tháng, năm sinh"].key.split("-")[1]) == record_id  # same record
    assert any("⚠" in h.proto.body for h in at.get("html"))  # the impossible date is reported inline
    with sessions() as session:
        assert session.get(Record, record_id).status == RecordStatus.IN_REVIEW
        birth = session.scalar(select(FieldValue).where(FieldValue.record_id == record_id,
                                                        FieldValue.key == "birth_date"))
        assert (birth.final_value, birth.status) == ("31/02/2001", FieldStatus.CORRECTED)


def test_supervisor_qa_sample_is_blind_and_feeds_the_error_rate(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
    call: Callable[..., Any],
) -> None:
    official = users["official"]
    first = record_ids(sessions, sample_book_id)[0]
    with transaction(sessions) as session:
        version = session.get(Record, first).version
    call(save_record, official, first, version, {"full_name": "Tên Cán Bộ Gõ"}, ReviewAction.APPROVE)
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/supervisor_queues.py")
    at.selectbox(key="qa-verifier").select(official.id)
    at.slider(key="qa-percent").set_value(50)
    at.button(key="qa-draw").click()
    at.run()
    assert not at.exception
    qa_name = next(w for w in at.text_input if w.key and w.key.endswith("-full_name"))
    assert qa_name.value == "Trần Thị Mẫu"  # blind: the proposal, not what the official typed
    next(b for b in at.button if b.label == "Ghi kết quả kiểm tra").click()
    at.run()
    assert not at.exception
    rates = next(d.value for d in at.dataframe if "Tỷ lệ lỗi" in d.value.columns)
    assert list(rates["Trường phải sửa"]) == [1] and rates["Cán bộ"].iloc[0] == "official"


def test_supervisor_compares_and_activates_a_model_with_explicit_confirmation(
    app_env: Workbench, users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
    units: dict[str, int],
) -> None:
    from ocr.read.engines.asternet import asternet_asset_dir
    from workbench.training.lexicon_growth import lexicon_path
    from workbench.training.model_admin import TRAIN_COMMAND
    from workbench.training.model_registry import SHIPPED_VERSION, active_version, register_model

    data_dir = app_env.settings.data_dir
    assets = asternet_asset_dir()
    # Created "tomorrow": no confirmed field is newer, so the comparison has nothing held out to read.
    model = register_model(data_dir, assets / "asternet.onnx", assets / "vocab.json", {
        "created_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds"),
        "validation_cer_before": 0.12, "validation_cer_after": 0.08,
        "training_set": {"train": {"lines": 420, "pages": 9, "units": ["Xã Tân Lập"]}, "validation": {"lines": 60}},
    })
    assert "app_pages/models_registry.py" not in allowed_paths(users["official"].role)
    at = open_page(signed_in_app(users["supervisor"]), "app_pages/models_registry.py")
    assert not errors(at)
    table = next(d.value for d in at.dataframe if "Phiên bản" in d.value.columns)
    assert len(table) == 2 and table["Lỗi ký tự sau"].iloc[0] == "8.0%" and table["Đang dùng"].iloc[1] == "✔"
    assert [c.value for c in at.code] == [TRAIN_COMMAND]
    assert [m.value for m in at.metric] == ["0", "1"]  # the sample book's one open page, not yet re-read
    at.button(key="model-compare").click()
    at.run()
    assert any("chưa so sánh được" in w.value for w in at.warning)
    assert at.button(key="model-activate").disabled  # no confirmation yet
    at.checkbox(key=f"model-confirm-{model.version}").check()
    at.run()
    at.button(key="model-activate").click()
    at.run()
    assert not errors(at)
    assert active_version(data_dir) == model.version
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "model_activate")).one()
        assert (event.user_id, event.new_value) == (users["supervisor"].id, {"version": model.version})
    at.checkbox(key="model-rollback-confirm").check()
    at.run()
    at.button(key="model-rollback").click()
    at.run()
    assert active_version(data_dir) == SHIPPED_VERSION
    at.button(key="lexicon-refresh").click()
    at.run()
    assert not errors(at)
    assert lexicon_path(data_dir, units["xa_a"]).is_file()


def test_model_comparison_table_on_the_held_out_sample_page(
    app_env: Workbench, users: dict[str, User]
) -> None:
    from ocr.read.engines.asternet import asternet_asset_dir
    from tests.test_model_admin import ingest_reviewed_sample
    from workbench.training.model_registry import register_model

    sample = ingest_reviewed_sample(app_env.sessions, app_env.settings.data_dir, users["official"])
    assets = asternet_asset_dir()
    model = register_model(app_env.settings.data_dir, assets / "asternet.onnx", assets / "vocab.json",
                           {"validation_pages": [f"db:page:{sample.page_id}"]})
    at = open_page(signed_in_app(users["admin"]), "app_pages/models_registry.py")
    at.button(key="model-compare").click()
    at.run()
    assert not errors(at)
    table = next(d.value for d in at.dataframe if "Chỉ số" in d.value.columns)
    candidate, active = table[f"Mô hình mới ({model.version})"], table["Đang dùng (shipped)"]
    assert int(candidate.iloc[0]) >= 8 and list(candidate) == list(active)  # same network, same reading
    assert any("không" in w.value for w in at.warning)  # equal is not better: no recommendation to switch
