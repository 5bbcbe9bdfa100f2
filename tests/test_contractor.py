"""Contractors (books, pages: re-run, soft delete) and admins (users, units, book types)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Page, PageStatus, Record, User
from ocr.image.loading import InputFile
from tests.conftest import record_ids
from workbench.accounts import admin
from workbench.accounts.auth import authenticate
from workbench.context import Workbench
from workbench.errors import InvalidActionError, ScopeError
from workbench.intake.contractor import (
    create_book,
    delete_page,
    get_book_summary,
    list_books,
    list_pages,
    rerun_page,
    restore_page,
)
from workbench.intake.ingest import IngestOptions, IngestReport, ingest_files, process_pending_pages
from workbench.review.progress import my_progress
from workbench.review.queue import next_record
from workbench.review.review import save_record

SAMPLE_PAGE = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh" / "page_001.jpg"


def _page_ids(sessions: sessionmaker[Session], book_id: int) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(Page.id).where(Page.book_id == book_id).order_by(Page.page_index)))


def test_create_book_validates_and_refuses_duplicates(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int],
) -> None:
    contractor = users["contractor"]
    book_id = call(create_book, contractor, unit_id=units["xa_a"], book_type="ket_hon", year=1998, volume=2,
                   declared_count=310)
    with pytest.raises(InvalidActionError) as raised:
        call(create_book, contractor, unit_id=units["xa_a"], book_type="ket_hon", year=1998, volume=2)
    assert raised.value.message_vi == "Sổ này đã có trong hệ thống."
    for bad in ({"book_type": "khai_sinhh", "year": 1998}, {"book_type": "ket_hon", "year": 1700},
                {"book_type": "ket_hon", "year": 1998, "volume": 0}):
        with pytest.raises(InvalidActionError):
            call(create_book, contractor, unit_id=units["xa_a"], **bad)
    [summary] = call(list_books, contractor)
    assert (summary.id, summary.type_label, summary.declared_count, summary.pages, summary.volume) == (
        book_id, "Sổ đăng ký kết hôn", 310, 0, 2)


def test_delete_page_hides_its_records_everywhere_and_restore_brings_them_back(
    call: Callable[..., Any], users: dict[str, User], build_book: Callable[..., int], units: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    book_id = build_book(units["xa_a"], [0.9] * 4, rows_per_page=2)  # two pages of two records
    first_page, second_page = _page_ids(sessions, book_id)
    held = call(next_record, users["official"])
    with pytest.raises(InvalidActionError):
        call(delete_page, users["contractor"], first_page, " ")
    call(delete_page, users["contractor"], first_page, "Ảnh chụp nhòe, chụp lại")
    with sessions() as session:
        assert session.get(Record, held.record_id).assigned_to_id is None  # claim released
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "delete"))
        assert event.new_value == {"deleted": True, "reason": "Ảnh chụp nhòe, chụp lại"}
    assert call(my_progress, users["official"]).unit_total == 2
    assert call(get_book_summary, users["contractor"], book_id).pages == 1
    served = []
    while (claim := call(next_record, users["official"])) is not None:
        served.append(claim.record_id)
        call(save_record, users["official"], claim.record_id, claim.version, {}, "approve")
    assert served == record_ids(sessions, book_id)[2:]
    assert [p.id for p in call(list_pages, users["contractor"], book_id)] == [second_page]
    assert [p.deleted for p in call(list_pages, users["contractor"], book_id, include_deleted=True)] == [True, False]
    with pytest.raises(InvalidActionError):
        call(rerun_page, users["contractor"], first_page)  # a deleted page is not re-run
    call(restore_page, users["contractor"], first_page)
    assert call(next_record, users["official"]) is not None


def test_rerun_refuses_to_discard_reviewed_work_unless_forced(
    call: Callable[..., Any], users: dict[str, User], sample_book_id: int, sessions: sessionmaker[Session],
) -> None:
    [page_id] = _page_ids(sessions, sample_book_id)
    claim = call(next_record, users["official"])
    call(save_record, users["official"], claim.record_id, claim.version, {"sex": "Nam"}, "save")
    assert call(list_pages, users["contractor"], sample_book_id)[0].has_human_work
    with pytest.raises(InvalidActionError):
        call(rerun_page, users["contractor"], page_id)
    call(rerun_page, users["contractor"], page_id, force=True)
    with sessions() as session:
        assert session.get(Page, page_id).status == PageStatus.QUEUED
    with pytest.raises(InvalidActionError):
        call(rerun_page, users["contractor"], page_id, force=True)  # already queued


def test_rerun_page_is_reprocessed_by_the_resumable_ingest_pass(
    wb: Workbench, call: Callable[..., Any], users: dict[str, User], units: dict[str, int],
    sessions: sessionmaker[Session],
) -> None:
    """A real sample page, segmented without recognition (fast): listed with rows found vs expected."""
    book_id = call(create_book, users["contractor"], unit_id=units["xa_a"], book_type="khai_sinh", year=2001)
    options = IngestOptions(run_ocr=False)
    first = ingest_files(sessions, wb.settings.data_dir, [InputFile(SAMPLE_PAGE.name, path=SAMPLE_PAGE)],
                         book_id=book_id, options=options)
    assert (first.pages_done, first.errors) == (1, [])
    [page] = call(list_pages, users["contractor"], book_id)
    assert page.status == PageStatus.DONE and page.rows_found > 0
    assert page.rows_expected is not None and page.rows_expected >= page.rows_found
    assert page.image_path.startswith("derived/") and (wb.settings.data_dir / page.image_path).exists()
    call(rerun_page, users["contractor"], page.id)
    assert call(get_book_summary, users["contractor"], book_id).pages_by_status == {"queued": 1}
    report = IngestReport(book_id=book_id)
    process_pending_pages(sessions, wb.settings.data_dir, book_id, options, None, report)
    [again] = call(list_pages, users["contractor"], book_id)
    assert (report.pages_done, again.status, again.rows_found) == (1, PageStatus.DONE, page.rows_found)
    summary = call(get_book_summary, users["contractor"], book_id)
    assert summary.pages_finished == 1 and summary.records == page.rows_found


def test_admin_manages_users_and_units(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    boss = users["admin"]
    new_id = call(admin.create_user_account, boss, username="canbo_moi", password="mat-khau-dai", role="official",
                  unit_ids=[units["xa_b"]], full_name="Cán bộ mới")
    with pytest.raises(InvalidActionError) as raised:
        call(admin.create_user_account, boss, username="canbo_moi", password="mat-khau-dai", role="official",
             unit_ids=[])
    assert "đã tồn tại" in raised.value.message_vi
    with sessions() as session, session.begin():
        assert authenticate(session, "canbo_moi", "mat-khau-dai").id == new_id
    listed = {u.username: u for u in call(admin.list_users, boss)}
    assert listed["canbo_moi"].unit_names == ("Xã Tân Hưng",) and listed["canbo_moi"].active
    new_user = User(id=new_id, username="canbo_moi")
    call(admin.set_user_units, boss, new_id, [units["other_xa"]])
    assert [u.name for u in call(admin.list_units, new_user)] == ["Xã Lộc Tấn"]
    call(admin.set_active, boss, new_id, False)
    with pytest.raises(ScopeError):
        call(admin.list_units, new_user)
    with pytest.raises(InvalidActionError):
        call(admin.set_active, boss, boss.id, False)
    unit_id = call(admin.create_unit, boss, name="  Xã  Tân Phước ", level="xa", parent_id=units["huyen"])
    with pytest.raises(InvalidActionError):
        call(admin.create_unit, boss, name="Xã Tân Phước", level="xa", parent_id=units["huyen"])
    assert "Tỉnh Thử Nghiệm / Huyện Đồng Phú / Xã Tân Phước" in [u.path for u in call(admin.list_units, boss)]
    assert unit_id in {u.id for u in call(admin.list_units, users["supervisor"])}  # district covers new commune
    types = call(admin.list_book_types, users["official"])
    assert [t.key for t in types][:4] == ["khai_sinh", "ket_hon", "khai_tu", "nuoi_con_nuoi"]
    with sessions() as session:
        actions = {e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.user_id == boss.id))}
    assert {"create", "set_units", "deactivate"} <= actions
