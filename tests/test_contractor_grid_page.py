"""The grid editor page ("Sửa lưới trang") in Streamlit's AppTest, on a real sample page in a real
database file: the detected rulings are offered for editing, a row line can be added and removed,
moving a column line and pressing "Cắt lại và đọc lại" re-cuts and re-reads the page, and a page
with approved records cannot be re-cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from models import AuditEvent, Page, Record, RecordStatus, User
from ocr.image.loading import InputFile
from tests.test_app_pages import errors, open_page, signed_in_app
from workbench.books import BookIdentity
from workbench.context import Workbench
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.training.model_registry import SHIPPED_VERSION
from workbench.ui.navigation import allowed_paths

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh" / "page_001.jpg"
PAGE = "app_pages/contractor_grid.py"


@pytest.fixture()
def page_id(app_env: Workbench, users: dict[str, User]) -> int:
    report = ingest_files(app_env.sessions, app_env.settings.data_dir, [InputFile("page_001.jpg", SAMPLE)],
                          identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2003),
                          options=IngestOptions(run_ocr=False), actor=users["contractor"])
    assert report.pages_done == 1, report.errors
    with app_env.sessions() as session:
        return int(session.scalar(select(Page.id).where(Page.book_id == report.book_id)))


def column_input(at: AppTest, page_id: int, index: int, revision: int = 0):  # type: ignore[no-untyped-def]
    return at.number_input(key=f"gx-{page_id}-{revision}-{index}")


def row_count(at: AppTest, page_id: int, revision: int) -> int:
    return sum(1 for n in at.number_input if str(n.key).startswith(f"gy-{page_id}-{revision}-"))


def test_the_editor_is_on_the_contractor_and_admin_menus_only() -> None:
    assert PAGE in allowed_paths("contractor") and PAGE in allowed_paths("admin")
    assert PAGE not in allowed_paths("official") and PAGE not in allowed_paths("supervisor")


def test_moving_a_column_line_recuts_and_rereads_the_page(
    app_env: Workbench, users: dict[str, User], page_id: int, sessions: sessionmaker[Session],
) -> None:
    at = open_page(signed_in_app(users["contractor"]), PAGE)
    assert not errors(at), errors(at)
    assert at.title[0].value == "Sửa lưới trang"
    assert "lưới do máy tìm theo các đường kẻ" in at.caption[0].value
    columns = [column_input(at, page_id, i).value for i in range(13)]
    assert row_count(at, page_id, 0) == 11 and columns == sorted(columns)

    # Add a row line below the last one, then remove it again: the inputs follow.
    at.button(key=f"FormSubmitter:grid-add-{page_id}-Thêm đường ngang").click().run()
    assert row_count(at, page_id, 1) == 12
    at.button(key=f"FormSubmitter:grid-remove-{page_id}-Bỏ đường ngang").click().run()
    assert row_count(at, page_id, 2) == 11

    # A close-up of one line at full resolution.
    at.selectbox(key=f"grid-closeup-{page_id}").select("c3").run()
    captions = [i.caption for element in at.get("image") for i in element.proto.imgs]
    assert "Đường dọc 4" in captions and len(captions) == 2  # the whole page and the close-up

    moved = (columns[2] + columns[3]) // 2  # the ruling between name and birth date, into the names
    column_input(at, page_id, 3, revision=2).set_value(moved).run()
    assert not at.warning, [w.value for w in at.warning]
    at.button(key=f"grid-apply-{page_id}").click().run()
    assert not errors(at), errors(at)
    assert "Đã cắt lại và đọc lại trang 1: 10 dòng mới, thay 10 dòng cũ" in at.success[0].value
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    with sessions() as session:
        page = session.get(Page, page_id)
        assert page.model_version == SHIPPED_VERSION and "manual_grid" in page.warnings
        name_boxes = {f.bbox[2] for r in session.scalars(select(Record).where(Record.page_id == page_id))
                      for f in r.fields if f.key == "full_name"}
        assert name_boxes == {moved - columns[2]}
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "correct_segmentation"))
        assert event.user_id == users["contractor"].id and event.new_value["column_lines"][3] == moved
    assert "lưới đã được sửa tay" in at.caption[0].value  # the page reloads the person's grid


def test_impossible_lines_and_approved_pages_disable_the_button(
    app_env: Workbench, users: dict[str, User], page_id: int, sessions: sessionmaker[Session],
) -> None:
    at = open_page(signed_in_app(users["admin"]), PAGE)
    first = column_input(at, page_id, 0).value
    column_input(at, page_id, 1).set_value(first).run()  # two column lines on top of each other
    assert "tăng dần" in at.warning[0].value
    assert at.button(key=f"grid-apply-{page_id}").disabled

    with transaction(sessions) as session:
        record = session.scalars(select(Record).where(Record.page_id == page_id)).first()
        record.status = RecordStatus.APPROVED  # test set-up: an approved registration on the page
    at = open_page(signed_in_app(users["contractor"]), PAGE)
    assert "đã có 1 bản ghi được duyệt" in at.error[0].value
    assert at.button(key=f"grid-apply-{page_id}").disabled
