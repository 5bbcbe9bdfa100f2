"""Deliverables for supervisors (issue #16 item 4): scoped, audited exports and cross-check on a real
database holding two real sample pages (segmented without OCR) whose records were approved through
the review service, as officials do.

Each format makes a valid file (the DL Import header against the layout file, PDFs in the ZIP,
PAGE XML that parses), a supervisor of another unit and an official are refused, the audit holds
who exported which book in which format and how many records, and the background job reports its
progress and serves the file.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Record, User
from ocr.image.loading import iter_input_files
from tests.test_app_pages import open_page, signed_in_app
from workbench.accounts.auth import create_user
from workbench.books import BookIdentity, get_or_create_unit
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.crosscheck.extract import ExtractError
from workbench.db import transaction
from workbench.deliverables import deliverables
from workbench.deliverables.deliverables import DeliverableError
from workbench.deliverables.exports.import_layout import import_layout
from workbench.errors import NotFoundError, ScopeError
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.queue import claim_record
from workbench.review.review import save_record
from workbench.ui import deliverable_jobs
from workbench.ui.navigation import allowed_paths

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "samples" / "books" / "khai_sinh" / f"page_00{n}.jpg" for n in (1, 2)]
UNIT, OTHER_UNIT = "Xã Đại Lãnh", "Xã Lộc Tấn"
PAGE_NS = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}"
# Synthetic people (never real): what the officials key for the first approved records.
PEOPLE = [
    ("Nguyễn Văn Thử", "05/03/2003", "Nam", "Nguyễn Văn Cha", "Trần Thị Mẹ"),
    ("Lê Thị Mẫu", "14/08/2003", "Nữ", "Lê Văn Bố", "Phạm Thị Má"),
]


@dataclass(frozen=True)
class Office:
    wb: Workbench
    book_id: int
    users: dict[str, User]
    approved: int
    left_open: int

    @property
    def data_dir(self) -> Path:
        return self.wb.settings.data_dir

    def call(self, fn: object, who: str, *args: object, **kwargs: object) -> object:
        with transaction(self.wb.sessions) as session:
            return fn(session, self.users[who], *args, **kwargs)  # type: ignore[operator]


def _approve(sessions: sessionmaker[Session], official: User, record_id: int, values: dict[str, str]) -> None:
    with transaction(sessions) as session:
        claim = claim_record(session, official, record_id)
    with transaction(sessions) as session:
        save_record(session, official, record_id, claim.version, values, "approve")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """Two sample pages ingested without OCR; every record approved but the last, the first two with
    the synthetic people above keyed in."""
    tmp = tmp_path_factory.mktemp("deliverables")
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp / 'wb.db'}", data_dir=tmp / "data"))
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, UNIT)
        get_or_create_unit(session, OTHER_UNIT)
        users = {
            "supervisor": create_user(session, "totruong_t", "mat-khau-thu-1", "supervisor", [UNIT]),
            # the page test's own supervisor: background jobs are listed per user, and other tests make some
            "page_supervisor": create_user(session, "totruong_trang", "mat-khau-thu-1", "supervisor", [UNIT]),
            "other_supervisor": create_user(session, "totruong_khac", "mat-khau-thu-1", "supervisor", [OTHER_UNIT]),
            "official": create_user(session, "canbo_t", "mat-khau-thu-1", "official", [UNIT]),
        }
        session.flush()
        session.expunge_all()
    report = ingest_files(wb.sessions, wb.settings.data_dir, list(iter_input_files(PAGES)),
                          identity=BookIdentity(UNIT, "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.records_created >= 4, report.errors
    with wb.sessions() as session:
        ids = list(session.scalars(select(Record.id).where(Record.book_id == report.book_id).order_by(Record.id)))
    for number, record_id in enumerate(ids[:-1]):
        values = {"registration_no": str(number + 1), "registration_date": "02/01/2003"}
        if number < len(PEOPLE):
            name, born, sex, father, mother = PEOPLE[number]
            values |= {"full_name": name, "birth_date": born, "sex": sex, "father_name": father,
                       "mother_name": mother}
        _approve(wb.sessions, users["official"], record_id, values)
    yield Office(wb, report.book_id, users, len(ids) - 1, 1)
    wb.engine.dispose()


def _events(office: Office, action: str) -> list[AuditEvent]:
    with office.wb.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "book", AuditEvent.entity_id == office.book_id, AuditEvent.action == action,
        ).order_by(AuditEvent.id)))


def test_books_in_scope_with_their_counts(office: Office) -> None:
    [book] = office.call(deliverables.deliverable_books, "supervisor")
    assert (book.id, book.approved, book.open_records, book.pages) == (office.book_id, office.approved, 1, 2)
    assert book.unit_name == UNIT and "2003" in book.label
    assert office.call(deliverables.deliverable_books, "other_supervisor") == []
    with pytest.raises(ScopeError):
        office.call(deliverables.deliverable_books, "official")


def test_an_open_record_blocks_the_export_unless_included(office: Office) -> None:
    with pytest.raises(DeliverableError) as refused:
        office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "xlsx")
    assert "chưa được duyệt" in refused.value.message_vi
    assert not list(deliverables.book_folder(office.data_dir, office.book_id).glob("*.xlsx"))


def test_dl_import_excel_has_the_layout_header_and_one_row_per_record(office: Office) -> None:
    progress: list[tuple[int, int]] = []
    done = office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "xlsx",
                       include_unapproved=True, progress=lambda d, t: progress.append((d, t)))
    path = deliverables.book_folder(office.data_dir, office.book_id) / done.file_name
    assert done.file_name == "KS_XA-DAI-LANH_2003_Q1.xlsx" and path.stat().st_size == done.size_bytes
    assert (done.records, done.unapproved) == (office.approved + 1, 1) and progress[-1] == (1, 1)
    layout = import_layout("khai_sinh")
    sheet = load_workbook(path, read_only=True)[layout.sheet]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == layout.header
    assert len(rows) == 1 + done.records
    name_column = layout.header.index("nksHoTen")
    assert [r[name_column] for r in rows[1:3]] == [p[0] for p in PEOPLE]
    [event] = [e for e in _events(office, "export") if e.new_value["format"] == "xlsx"]
    assert event.actor == "totruong_t" and event.user_id == office.users["supervisor"].id
    assert event.new_value["records"] == done.records and event.new_value["unapproved"] == 1
    assert event.new_value["file"] == done.file_name


def test_zip_holds_a_pdf_per_record_and_the_excel(office: Office) -> None:
    progress: list[tuple[int, int]] = []
    done = office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "zip",
                       include_unapproved=True, progress=lambda d, t: progress.append((d, t)))
    path = deliverables.book_folder(office.data_dir, office.book_id) / done.file_name
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == done.records and all(archive.read(n).startswith(b"%PDF") for n in pdfs)
        assert [n for n in names if n.endswith(".xlsx")] == ["KS_XA-DAI-LANH_2003_Q1.xlsx"]
        assert sum(n.endswith("_CHUADUYET.pdf") for n in pdfs) == 1
    # One step per PDF, then the Excel file: the bar moves as the book is written.
    assert [d for d, _ in progress] == list(range(1, done.records + 1)) + [done.records + 1]
    assert {t for _, t in progress} == {done.records + 1}
    assert any(e.new_value["format"] == "zip" and e.new_value["records"] == done.records
               for e in _events(office, "export"))


def test_pagexml_is_a_zip_of_parsing_page_documents_and_their_images(office: Office) -> None:
    done = office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "pagexml",
                       include_unapproved=True)
    folder = deliverables.book_folder(office.data_dir, office.book_id)
    assert done.file_name == "KS_XA-DAI-LANH_2003_Q1_pagexml.zip"
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith((".xlsx", ".zip"))) == []  # no leftovers
    with zipfile.ZipFile(folder / done.file_name) as archive:
        xml_names = sorted(n for n in archive.namelist() if n.endswith(".xml"))
        assert len(xml_names) == 2 and len(archive.namelist()) == 4
        cells = 0
        for name in xml_names:
            root = etree.fromstring(archive.read(name))
            image = root.find(f"{PAGE_NS}Page").get("imageFilename")
            assert f"{name.rsplit('/', 1)[0]}/{image}" in archive.namelist()
            cells += len(root.findall(f".//{PAGE_NS}TableCellRole"))
    assert cells == done.records * 12  # the birth register's 12 columns per registration


@pytest.mark.parametrize("who", ["other_supervisor", "official"])
def test_another_units_supervisor_and_an_official_are_refused(office: Office, who: str) -> None:
    before = len(_events(office, "export"))
    for fmt in deliverables.FORMATS:
        with pytest.raises(ScopeError) as refused:
            office.call(deliverables.export_deliverable, who, office.data_dir, office.book_id, fmt,
                        include_unapproved=True)
        assert refused.value.message_vi
    with pytest.raises(ScopeError):
        office.call(deliverables.run_book_crosscheck, who, office.data_dir, 1, office.book_id)
    with pytest.raises(ScopeError):
        office.call(deliverables.book_tracking_list, who, office.book_id)
    assert len(_events(office, "export")) == before


def test_download_rechecks_scope_refuses_other_names_and_is_audited(office: Office) -> None:
    done = office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "xlsx",
                       include_unapproved=True)
    path = office.call(deliverables.open_deliverable, "supervisor", office.data_dir, office.book_id, done.file_name)
    assert path.read_bytes()[:2] == b"PK"
    assert _events(office, "download")[-1].new_value["file"] == done.file_name
    with pytest.raises(ScopeError):
        office.call(deliverables.open_deliverable, "other_supervisor", office.data_dir, office.book_id,
                    done.file_name)
    for name in ("../../wb.db", "..", ".hidden.tmp", "KHONG_CO.xlsx"):
        with pytest.raises(NotFoundError):
            office.call(deliverables.open_deliverable, "supervisor", office.data_dir, office.book_id, name)


def _extract_csv() -> bytes:
    """The first person as in the book (a match); the second with another birth day (found but different)."""
    lines = ["so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,ho_ten_cha,ho_ten_me",
             "001203000001,Nguyễn Văn Thử,05/03/2003,Nam,Nguyễn Văn Cha,Trần Thị Mẹ",
             "001203000002,Lê Thị Mẫu,15/08/2003,Nữ,Lê Văn Bố,Phạm Thị Má"]
    return ("\n".join(lines) + "\n").encode()


def test_crosscheck_import_run_tracking_list_and_id_numbers_in_the_excel(office: Office) -> None:
    with pytest.raises(DeliverableError) as bad:
        office.call(deliverables.import_population_extract, "supervisor", office.data_dir, "hong.csv",
                    b"ho_ten\nAi\n")
    assert bad.value.message_vi
    info = office.call(deliverables.import_population_extract, "supervisor", office.data_dir,
                       "C:\\Users\\x\\dan_cu.csv", _extract_csv())
    assert (info.file_name, info.rows) == ("dan_cu.csv", 2)
    assert [e.id for e in office.call(deliverables.population_extracts, "supervisor")][0] == info.id
    progress: list[tuple[int, int]] = []
    outcome = office.call(deliverables.run_book_crosscheck, "supervisor", office.data_dir, info.id, office.book_id,
                          lambda d, t: progress.append((d, t)))
    assert outcome.records == office.approved and progress[-1] == (office.approved, office.approved)
    assert outcome.counts["match"] >= 1 and outcome.counts["different"] >= 1
    [event] = _events(office, "crosscheck")
    assert event.actor == "totruong_t" and event.new_value["records"] == office.approved
    assert event.new_value["extract_id"] == info.id

    items = office.call(deliverables.book_tracking_list, "supervisor", office.book_id)
    assert [(i.role, i.differing_fields) for i in items if i.book_values.get("full_name") == "Lê Thị Mẫu"] == [
        ("child", ("birth_date",))]
    tracked = office.call(deliverables.export_tracking_list, "supervisor", office.data_dir, office.book_id)
    sheet = load_workbook(deliverables.book_folder(office.data_dir, office.book_id) / tracked.file_name).active
    assert sheet.max_row == 1 + len(items)
    assert _events(office, "export")[-1].new_value["format"] == "tracking"

    done = office.call(deliverables.export_deliverable, "supervisor", office.data_dir, office.book_id, "xlsx",
                       include_unapproved=True)
    layout = import_layout("khai_sinh")
    rows = list(load_workbook(deliverables.book_folder(office.data_dir, office.book_id) / done.file_name,
                              read_only=True)[layout.sheet].iter_rows(values_only=True))
    assert rows[1][layout.header.index("nksSoDinhDanh")] == "001203000001"


def test_an_unknown_extract_is_refused_in_vietnamese(office: Office) -> None:
    with pytest.raises(DeliverableError) as refused:
        office.call(deliverables.run_book_crosscheck, "supervisor", office.data_dir, 999, office.book_id)
    assert isinstance(refused.value.__cause__, ExtractError) and "999" in refused.value.message_vi


def _wait(db_url: str, user_id: int, job_id: str) -> deliverable_jobs.JobView:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = next(j for j in deliverable_jobs.jobs_of(db_url, user_id) if j.job_id == job_id)
        if job.finished:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_background_job_reports_progress_serves_the_file_and_audits_a_refusal(office: Office) -> None:
    wb, user_id = office.wb, office.users["supervisor"].id
    assert deliverable_jobs.start_export(wb.sessions, wb.settings.db_url, office.data_dir, user_id, office.book_id,
                                         "zip", True)
    job = _wait(wb.settings.db_url, user_id, f"export:{office.book_id}:zip")
    assert job.error_vi is None and job.result is not None and job.fraction == 1.0
    assert job.done == job.total == job.result.records + 1
    data = deliverable_jobs.download_bytes(wb.sessions, office.data_dir, user_id, office.book_id,
                                           job.result.file_name)
    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == job.result.files

    # Someone else's job is not in this user's list, and a refused one ends with the Vietnamese reason.
    other_id = office.users["other_supervisor"].id
    assert deliverable_jobs.start_export(wb.sessions, wb.settings.db_url, office.data_dir, other_id,
                                         office.book_id, "xlsx", True)
    refused = _wait(wb.settings.db_url, other_id, f"export:{office.book_id}:xlsx")
    assert refused.result is None and refused.error_vi == "Bạn không có quyền truy cập dữ liệu của đơn vị này."
    assert all(j.error_vi is None for j in deliverable_jobs.jobs_of(wb.settings.db_url, user_id))
    # A failure after the scope check (an open record, not included) is audited against the book.
    assert deliverable_jobs.start_export(wb.sessions, wb.settings.db_url, office.data_dir, user_id, office.book_id,
                                         "pagexml", False)
    failed = _wait(wb.settings.db_url, user_id, f"export:{office.book_id}:pagexml")
    assert failed.error_vi is not None and "chưa được duyệt" in failed.error_vi
    [event] = _events(office, "export_failed")
    assert event.actor == "totruong_t" and event.new_value == {"format": "pagexml", "reason": "DeliverableError"}



def test_the_page_exports_in_the_background_and_offers_the_download(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AppTest of app_pages/deliverables.py as the supervisor: the book is listed, 'Bắt đầu xuất' starts the
    job, and once it is done the page shows the file with its download button (the browser test clicks it)."""
    monkeypatch.setenv("WORKBENCH_DB", office.wb.settings.db_url)
    monkeypatch.setenv("WORKBENCH_DATA", str(office.data_dir))
    official = office.users["official"]
    assert "app_pages/deliverables.py" not in allowed_paths(official.role)
    at = open_page(signed_in_app(office.users["page_supervisor"]), "app_pages/deliverables.py")
    assert not at.exception and at.title[0].value == "Sản phẩm bàn giao"
    assert "Khai sinh 2003 quyển 1" in at.selectbox(key="deliverables-book").format_func(office.book_id)
    at.checkbox(key="deliverables-include-unapproved").check()
    at.button(key="deliverables-export").click()
    at.run()
    _wait(office.wb.settings.db_url, office.users["page_supervisor"].id, f"export:{office.book_id}:xlsx")
    at.run()
    assert not at.exception and not at.error
    texts = [t.value for t in at.text]
    assert any(t.startswith("KS_XA-DAI-LANH_2003_Q1.xlsx (") for t in texts), texts
    assert any(b.label == "Tải về" for b in at.get("download_button")), "no download button"
