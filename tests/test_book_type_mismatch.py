"""Issue #16 item 6: a page of another book type is flagged book_type_mismatch, held out of the
officials' queue until the contractor confirms it (or deletes it), and listed in the JSON export.

Real pages only: the bundled sample books (rendered by samples/) and pages rendered here by the
sample generator; ingest without OCR (the column check) except where the title check is the point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Page, Record, User
from ocr.image.loading import InputFile, iter_input_files
from ocr.layout.page import analyze_page
from ocr.page_warnings import decode_warnings
from ocr.read.book_type_check import check_page, fold, title_scores, title_verdict
from samples.render import PageOptions, render_page
from workbench.book_types import get_book_type
from workbench.books import BookIdentity
from workbench.context import Workbench
from workbench.db import transaction
from workbench.deliverables.export_json import export_book_json
from workbench.errors import ScopeError
from workbench.intake.book_type_hold import book_type_candidates, confirm_page_book_type, is_held
from workbench.intake.contractor import delete_page, list_pages, rerun_page
from workbench.intake.ingest import IngestOptions, IngestReport, ingest_files, process_pending_pages
from workbench.policy import ReviewPolicy
from workbench.review.queue import queue_candidates
from workbench.scope import REVIEWERS, load_scope

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "books"
UNIT = "Xã Tân Lập"  # the conftest users' unit
NO_OCR = IngestOptions(run_ocr=False)


def ingest(wb: Workbench, book_type: str, paths: list[Path], volume: int = 1) -> int:
    report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files(paths),
                          identity=BookIdentity(UNIT, book_type, 2003, volume), options=NO_OCR)
    assert report.errors == [] and report.pages_done == len(paths)
    return report.book_id


def pages_by_file(sessions: sessionmaker[Session], book_id: int) -> dict[str, Page]:
    with sessions() as session:
        pages = session.scalars(select(Page).where(Page.book_id == book_id))
        return {f"{p.original_name}#{p.page_index}": p for p in pages}


def queued_records(sessions: sessionmaker[Session], official: User) -> set[int]:
    with sessions() as session:
        scope = load_scope(session, official, REVIEWERS)
        return {rid for rid, _ in queue_candidates(session, scope, ReviewPolicy(), datetime.now(UTC), limit=10_000)}


def records_of(sessions: sessionmaker[Session], page_id: int) -> set[int]:
    with sessions() as session:
        return set(session.scalars(select(Record.id).where(Record.page_id == page_id)))


@pytest.mark.parametrize("book_type", ["khai_sinh", "ket_hon", "khai_tu", "nuoi_con_nuoi"])
def test_bundled_pages_in_their_own_book_are_not_flagged(wb: Workbench, book_type: str) -> None:
    book_id = ingest(wb, book_type, sorted((SAMPLES / book_type).glob("page_*.jpg")))
    with wb.sessions() as session:
        pages = list(session.scalars(select(Page).where(Page.book_id == book_id)))
        steps = session.scalars(select(AuditEvent.new_value).where(AuditEvent.step_name == "book_type")).all()
    assert len(pages) == 3
    assert [p.warnings for p in pages if is_held(decode_warnings(p.warnings))] == []
    # The check ran on every page (its evidence is audited) and found the declared type best.
    assert len(steps) == 3
    for evidence in steps:
        costs = evidence["column_costs"]
        assert min(costs, key=costs.get) == book_type and evidence["suspected"] is None


@pytest.mark.parametrize(("page_type", "book_type"), [
    ("ket_hon", "khai_sinh"),  # the acceptance case: one column more, other proportions
    ("ket_hon", "khai_tu"),  # same number of columns, other proportions (the death book)
    ("nuoi_con_nuoi", "khai_tu"),  # the adoption page in a death book
    ("khai_sinh", "nuoi_con_nuoi"),
])
def test_a_page_of_another_type_is_flagged_without_ocr(wb: Workbench, page_type: str, book_type: str) -> None:
    book_id = ingest(wb, book_type, [SAMPLES / page_type / "page_002.jpg"])
    (page,) = pages_by_file(wb.sessions, book_id).values()
    assert f"book_type_mismatch:{page_type}" in page.warnings


def test_marriage_page_in_a_birth_book_is_held_out_of_the_queue_until_confirmed(
    wb: Workbench, users: dict[str, User]
) -> None:
    marriage, birth = SAMPLES / "ket_hon" / "page_001.jpg", SAMPLES / "khai_sinh" / "page_001.jpg"
    book_id = ingest(wb, "khai_sinh", [marriage, birth])
    pages = pages_by_file(wb.sessions, book_id)
    held, good = pages["page_001.jpg#1"], pages["page_001.jpg#2"]
    assert "book_type_mismatch:ket_hon" in held.warnings and not is_held(decode_warnings(good.warnings))
    held_records, good_records = records_of(wb.sessions, held.id), records_of(wb.sessions, good.id)
    assert held_records and good_records  # the page was segmented; its rows wait for the contractor
    queue = queued_records(wb.sessions, users["official"])
    assert good_records <= queue and not held_records & queue

    # The JSON export lists it in the book's pages, with a Vietnamese message.
    with wb.sessions() as session:
        exported = export_book_json(session, book_id)
    warnings = {p["index"]: p["warnings"] for p in exported["pages"]}
    (mismatch,) = [w for w in warnings[1] if w["code"] == "book_type_mismatch"]
    assert "kết hôn" in mismatch["message"] and "giữ lại" in mismatch["message"]
    assert all(w["code"] != "book_type_mismatch" for w in warnings[2])

    # An official may not confirm; the contractor of the unit may, and the records reach the queue.
    with pytest.raises(ScopeError), transaction(wb.sessions) as session:
        confirm_page_book_type(session, users["official"], held.id)
    with transaction(wb.sessions) as session:
        confirm_page_book_type(session, users["contractor"], held.id)
    assert held_records <= queued_records(wb.sessions, users["official"])
    with wb.sessions() as session:
        page = session.get(Page, held.id)
        assert not is_held(decode_warnings(page.warnings))
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "confirm_book_type"))
        assert event.user_id == users["contractor"].id and event.entity_id == held.id

    # Re-processing a confirmed page does not hold it again (the evidence is still audited).
    with transaction(wb.sessions) as session:
        rerun_page(session, users["contractor"], held.id)
    process_pending_pages(wb.sessions, wb.settings.data_dir, book_id, NO_OCR, None, IngestReport(book_id))
    with wb.sessions() as session:
        assert not is_held(decode_warnings(session.get(Page, held.id).warnings))
        last = session.scalars(select(AuditEvent.new_value).where(AuditEvent.step_name == "book_type",
                                                                  AuditEvent.entity_id == held.id)).all()[-1]
        assert last["suspected"] == "ket_hon"


def test_deleting_a_held_page_keeps_its_records_out(wb: Workbench, users: dict[str, User]) -> None:
    book_id = ingest(wb, "khai_tu", [SAMPLES / "ket_hon" / "page_003.jpg"])
    (page,) = pages_by_file(wb.sessions, book_id).values()
    assert is_held(decode_warnings(page.warnings))
    with transaction(wb.sessions) as session:
        delete_page(session, users["contractor"], page.id, "trang sổ kết hôn, tải nhầm")
        summaries = list_pages(session, users["contractor"], book_id, include_deleted=True)
    assert not summaries[0].held  # a deleted page is no longer waiting for the contractor
    assert not records_of(wb.sessions, page.id) & queued_records(wb.sessions, users["official"])


def test_generated_marriage_page_into_a_birth_book_through_the_cli(tmp_path: Path) -> None:
    """The issue's acceptance, end to end: `ingest` then `export --format json` as a contractor would."""
    image, _ = render_page("ket_hon", 4242, PageOptions(rows=8))
    page = tmp_path / "ket_hon_4242.jpg"
    cv2.imwrite(str(page), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    env = {**os.environ, "WORKBENCH_DB": f"sqlite:///{tmp_path / 'wb.db'}", "WORKBENCH_DATA": str(tmp_path / "data")}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    cli("init-db")
    cli("ingest", str(page), "--book-type", "khai_sinh", "--unit", UNIT, "--year", "2003", "--no-ocr")
    exported = json.loads(cli("export", "1", "--format", "json"))
    codes = [w["code"] for p in exported["pages"] for w in p["warnings"]]
    assert "book_type_mismatch" in codes


def test_title_settles_what_the_columns_cannot(wb: Workbench) -> None:
    """A death page has one column more than a birth page and close proportions: the columns alone
    leave it in doubt (no warning); the printed title, read by OCR, names the death book."""
    from ocr.read.engines.asternet import get_asternet

    image, _ = render_page("khai_tu", 77, PageOptions(rows=8))
    analysis = analyze_page(image, get_book_type("khai_sinh").layout)
    table_top = next(s.result["table_box"][1] for s in analysis.steps if s.name == "grid")
    candidates = book_type_candidates()
    without_ocr = check_page(analysis.deskewed, table_top, "khai_sinh", candidates)
    assert without_ocr.suspected is None  # columns: not a clear enough difference to hold the page
    with_ocr = check_page(analysis.deskewed, table_top, "khai_sinh", candidates, get_asternet(1))
    assert with_ocr.by_title == "khai_tu" and with_ocr.suspected == "khai_tu", with_ocr.summary()
    # ... and the same title on a death book's page confirms it belongs there.
    own = check_page(analysis.deskewed, table_top, "khai_tu", candidates, get_asternet(1))
    assert own.by_title == "khai_tu" and own.suspected is None


def test_title_matching_ignores_accents_and_tolerates_misreadings() -> None:
    candidates = book_type_candidates()
    assert fold("Sổ đăng ký KẾT HÔN") == "SO DANG KY KET HON"
    scores = title_scores("SỐ ĐĂNG KÝ KÊT HÔM", candidates)  # two letters misread
    assert title_verdict(scores, "khai_sinh") == "ket_hon"
    assert title_verdict(title_scores("UBND xã Tân Lập", candidates), "khai_sinh") is None  # no title: no doubt
    # "KHAI TU" is close to "KHAI SINH": a garbled reading between them decides nothing.
    assert title_verdict(title_scores("SỔ ĐĂNG KÝ KHAI S", candidates), "khai_tu") is None


def test_an_unreadable_upload_is_not_checked_and_not_held(wb: Workbench) -> None:
    report = ingest_files(wb.sessions, wb.settings.data_dir, [InputFile(name="notes.jpg", data=b"not an image")],
                          identity=BookIdentity(UNIT, "khai_sinh", 2003, 1), options=NO_OCR)
    assert report.pages_failed == 1
    with wb.sessions() as session:
        page = session.scalar(select(Page))
        assert page.status == "failed" and not is_held(decode_warnings(page.warnings))
