"""Registration-number gaps and repeats across a book's pages become page warnings (issue #13, item 6),
shown with Vietnamese labels, counted in progress, recomputed on an official's correction and
listed in the JSON export. Books are DB fixtures (no OCR): a ledger of two pages, five rows each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, FieldValue, Page, Record, User
from ocr.page_warnings import decode_warnings, parse_warning, warning_text
from tests.conftest import insert_book
from tests.test_app_pages import open_page, signed_in_app
from workbench.db import transaction
from workbench.deliverables.export_json import export_book_json
from workbench.errors import ScopeError
from workbench.intake.ingest import IngestOptions, IngestReport, process_pending_pages
from workbench.intake.registration_sequence import (
    GAP,
    REPEAT,
    Location,
    NumberEntry,
    SequenceFinding,
    find_sequence_issues,
    parse_registration_no,
    recheck_book_sequence,
    sequence_finding,
)
from workbench.review.progress import book_sequence_counts, progress_dashboard
from workbench.review.record_view import get_record_view
from workbench.review.review import save_record
from workbench.ui.labels import page_warning_vi, page_warnings_vi

SCHEMA = Path(__file__).parent / "schemas" / "book-export.schema.json"
LOST_35 = ["30", "31", "32", "33", "34", "36", "37", "38", "39", "40"]  # page 1 ends at 34, page 2 starts at 36


def entries(*pages: list[str]) -> list[NumberEntry]:
    return [NumberEntry(page, row, number) for page, numbers in enumerate(pages, start=1)
            for row, number in enumerate(numbers, start=1)]


def codes(findings: list[SequenceFinding]) -> list[tuple[str, int, int, tuple[int, ...]]]:
    return [(f.code, f.at.page_index, f.at.row_index, f.numbers) for f in findings]


# --- the pure check ------------------------------------------------------------------------------

def test_gap_between_pages_is_found_on_the_page_after_it() -> None:
    (gap,) = find_sequence_issues(entries(["31", "32", "33", "34"], ["36", "37", "38", "39", "40"]))
    assert gap == SequenceFinding(GAP, at=Location(2, 1), before=Location(1, 4), numbers=(35,))
    assert warning_text(gap.warning()) == "registration_no_gap:35:1.4:2.1"
    assert page_warning_vi(gap.warning()) == "số 35 bị thiếu giữa trang 1 và trang 2"
    assert sequence_finding(gap.warning()) == gap
    assert sequence_finding(parse_warning("registration_no_gap:35:1.4")) is None  # not a finding's text


def test_repeat_names_the_number_and_both_rows() -> None:
    (repeat,) = find_sequence_issues(entries(["1", "2", "3"], ["3", "4"]))
    assert repeat == SequenceFinding(REPEAT, at=Location(2, 1), before=Location(1, 3), numbers=(3,))
    assert page_warning_vi(repeat.warning()) == "số 3 bị trùng ở trang 1 và trang 2"
    (same_page,) = find_sequence_issues(entries(["7", "8", "8"]))
    assert page_warning_vi(same_page.warning()) == "số 8 bị trùng ở dòng 2 và dòng 3"


@pytest.mark.parametrize(
    "pages",
    [
        (["120", "121"], ["122", "123"]),  # a book may start at any number
        (["1", "2", "3"], ["1", "2"]),  # a new year restarts at 1
        (["5", "6"], ["", "8"]),  # the unreadable one may be 7: not a gap we can be sure of
        (["5", "6"], ["x?", "8"]),
        (["12", "12a", "13"], ["14"]),  # 12a: a registration inserted after 12
        (["Số 5", "006", "7/2003"], ["8/2003"]),
        ([], []),
    ],
)
def test_clean_or_uncertain_sequences_raise_nothing(pages: tuple[list[str], ...]) -> None:
    assert find_sequence_issues(entries(*pages)) == []


def test_numbers_parse_as_the_field_grammar_reads_them() -> None:
    assert parse_registration_no(" 35 ").canonical == "35"
    assert parse_registration_no("35 / 2003").canonical == "35/2003"
    assert parse_registration_no("12a").lettered and parse_registration_no("12a").number == 12
    assert [parse_registration_no(t) for t in ("", "0", "abc", "1/2/3")] == [None, None, None, None]


def test_several_missing_numbers_and_order_of_entries() -> None:
    shuffled = list(reversed(entries(["1", "2"], ["6", "8"])))  # page/row order is restored
    assert codes(find_sequence_issues(shuffled)) == [(GAP, 2, 1, (3, 4, 5)), (GAP, 2, 2, (7,))]
    first = find_sequence_issues(shuffled)[0]
    assert page_warning_vi(first.warning()) == "các số 3–5 bị thiếu giữa trang 1 và trang 2"
    assert page_warning_vi(parse_warning("registration_no_gap:3-5,9/2003:1.2:1.3")) == \
        "các số 3/2003–5/2003 và 9/2003 bị thiếu giữa dòng 2 và dòng 3"


# --- a book in the database ----------------------------------------------------------------------

def build_numbered_book(sessions: sessionmaker[Session], unit_id: int, numbers: list[str],
                        page_warnings: dict[int, list[str]] | None = None, volume: int = 1) -> int:
    """A two-page book (five rows a page) whose registration numbers are `numbers`, in order."""
    with transaction(sessions) as session:
        book_id = insert_book(session, unit_id, [0.9] * len(numbers), rows_per_page=5, volume=volume)
        fields = session.scalars(
            select(FieldValue).join(Record).join(Page)
            .where(Record.book_id == book_id, FieldValue.key == "registration_no")
            .order_by(Page.page_index, Record.row_index)
        ).all()
        for field, number in zip(fields, numbers, strict=True):
            field.proposed_value = number
        for page in session.scalars(select(Page).where(Page.book_id == book_id)):
            page.warnings = list((page_warnings or {}).get(page.page_index, []))
    return book_id


def stored_warnings(sessions: sessionmaker[Session], book_id: int) -> dict[int, list[str]]:
    with sessions() as session:
        return {p.page_index: list(p.warnings or []) for p in
                session.scalars(select(Page).where(Page.book_id == book_id).order_by(Page.page_index))}


def record_at(sessions: sessionmaker[Session], book_id: int, page_index: int, row_index: int) -> int:
    with sessions() as session:
        return session.scalar(select(Record.id).join(Page).where(
            Record.book_id == book_id, Page.page_index == page_index, Record.row_index == row_index))


def test_recheck_stores_the_gap_on_page_2_keeping_other_warnings_without_duplicates(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35,
                                  {1: ["grid_rulings"], 2: ["auto_rotated:180", "grid_text_lines"]})
    for _ in range(2):  # recomputing replaces, never duplicates
        check = call(recheck_book_sequence, users["contractor"], book_id)
    assert codes(list(check.findings)) == [(GAP, 2, 1, (35,))]
    assert stored_warnings(sessions, book_id) == {
        1: ["grid_rulings"],
        2: ["auto_rotated:180", "grid_text_lines", "registration_no_gap:35:1.5:2.1"],
    }
    assert page_warnings_vi(decode_warnings(stored_warnings(sessions, book_id)[2])) == (
        "đã tự xoay 180°, không thấy đường kẻ, tách dòng theo chữ, số 35 bị thiếu giữa trang 1 và trang 2"
    )
    with sessions() as session:  # changed once, audited once, by the user who asked
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "sequence_check")).all()
    assert [(e.actor, e.old_value, e.new_value) for e in events] == [
        ("contractor", [], ["registration_no_gap:35:1.5:2.1"])
    ]


def test_repeat_and_clean_books_in_the_database(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    repeated = build_numbered_book(sessions, units["xa_a"], [str(n) for n in (30, 31, 32, 33, 34, 35, 36, 36, 37, 38)])
    clean = build_numbered_book(sessions, units["xa_a"], [str(n) for n in range(120, 130)], {1: ["blank"]}, volume=2)
    call(recheck_book_sequence, users["official"], repeated)
    call(recheck_book_sequence, users["official"], clean)
    assert stored_warnings(sessions, repeated) == {1: [], 2: ["registration_no_repeat:36:2.2:2.3"]}
    assert stored_warnings(sessions, clean) == {1: ["blank"], 2: []}
    assert call(book_sequence_counts, users["contractor"], clean).pages_with_warnings == 0


def test_ingest_ends_with_the_sequence_check(
    users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session], tmp_path: Path,
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35)
    # Every page is done already: the resumed ingest has nothing to OCR but still checks the sequence.
    process_pending_pages(sessions, tmp_path, book_id, IngestOptions(run_ocr=False), None, IngestReport(book_id))
    assert stored_warnings(sessions, book_id)[2] == ["registration_no_gap:35:1.5:2.1"]
    with sessions() as session:
        actor = session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "sequence_check"))
    assert actor == "pipeline"


def test_official_correcting_the_number_clears_the_gap_and_the_repeat(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    # Page 2's first row says 35, but OCR read it as 36: a gap (35) and a repeat (36) until corrected.
    book_id = build_numbered_book(sessions, units["xa_a"], ["30", "31", "32", "33", "34", "36", "36", "37", "38", "39"])
    call(recheck_book_sequence, users["official"], book_id)
    assert stored_warnings(sessions, book_id)[2] == ["registration_no_gap:35:1.5:2.1",
                                                     "registration_no_repeat:36:2.1:2.2"]
    official = users["official"]
    # Saving another field of another record leaves the warnings (and the audit) alone.
    other = record_at(sessions, book_id, 1, 1)
    call(save_record, official, other, call(get_record_view, official, other).version, {"full_name": "Lò Văn Tư"})
    with sessions() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "sequence_check")).all()) == 1
    record_id = record_at(sessions, book_id, 2, 1)
    view = call(get_record_view, official, record_id)
    call(save_record, official, record_id, view.version, {"registration_no": "35"}, "approve")
    assert stored_warnings(sessions, book_id) == {1: [], 2: []}
    assert call(book_sequence_counts, users["supervisor"], book_id).pages_with_warnings == 0
    # The official typing a wrong number back opens the gap again (the best value is the official's).
    view = call(get_record_view, users["supervisor"], record_id)
    call(save_record, users["supervisor"], record_id, view.version, {"registration_no": "36"}, "approve")
    assert len(stored_warnings(sessions, book_id)[2]) == 2


def test_rejecting_a_row_and_deleting_or_restoring_a_page_recheck_the_sequence(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    from workbench.intake.contractor import delete_page, restore_page
    from workbench.supervision.supervision import reject

    # A phantom row read as 36 repeats the real 36: rejecting it (not a registration) clears that.
    book_id = build_numbered_book(sessions, units["xa_a"], ["31", "32", "33", "34", "35", "36", "36", "37", "38", "39"])
    call(recheck_book_sequence, users["official"], book_id)
    assert stored_warnings(sessions, book_id)[2] == ["registration_no_repeat:36:2.1:2.2"]
    phantom = record_at(sessions, book_id, 2, 2)
    call(reject, users["supervisor"], phantom, call(get_record_view, users["supervisor"], phantom).version, "dòng ma")
    assert stored_warnings(sessions, book_id) == {1: [], 2: []}
    # Deleting page 1 of a book numbered 36.. leaves nothing to compare; restoring it brings it back.
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35, volume=2)
    call(recheck_book_sequence, users["official"], book_id)
    with sessions() as session:
        first = session.scalar(select(Page.id).where(Page.book_id == book_id, Page.page_index == 1))
    call(delete_page, users["contractor"], first, "trang chụp nhầm")
    assert stored_warnings(sessions, book_id)[2] == []
    call(restore_page, users["contractor"], first)
    assert stored_warnings(sessions, book_id)[2] == ["registration_no_gap:35:1.5:2.1"]


def test_progress_counts_sequence_warnings_per_book_in_scope(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], ["30", "31", "32", "33", "34", "38", "38", "39", "40", "41"])
    call(recheck_book_sequence, users["admin"], book_id)
    (counts,) = call(progress_dashboard, users["supervisor"]).sequence_by_book
    assert (counts.book_id, counts.label, counts.unit_name) == (book_id, "Khai sinh 2001 quyển 1", "Xã Tân Lập")
    assert (counts.pages_with_warnings, counts.gaps, counts.repeats, counts.missing_numbers) == (1, 1, 1, 3)
    assert [page_warning_vi(w) for _, w in counts.warnings] == [
        "các số 35–37 bị thiếu giữa trang 1 và trang 2", "số 38 bị trùng ở dòng 1 và dòng 2"]
    assert call(book_sequence_counts, users["contractor"], book_id) == counts
    assert call(progress_dashboard, users["other_supervisor"]).sequence_by_book == []


def test_sequence_services_check_the_users_scope(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35)
    for service in (recheck_book_sequence, book_sequence_counts):
        with pytest.raises(ScopeError):
            call(service, users["outsider"], book_id)
        with pytest.raises(ScopeError):
            call(service, users["other_contractor"], book_id)
    assert stored_warnings(sessions, book_id) == {1: [], 2: []}


def test_json_export_lists_every_page_with_its_warnings_and_validates(
    call: Callable[..., Any], users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session],
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35,
                                  {1: ["grid_rulings", "auto_rotated:180"], 2: ["grid_text_lines"]})
    call(recheck_book_sequence, users["contractor"], book_id)
    with sessions() as session:
        payload = export_book_json(session, book_id)
    jsonschema.validate(payload, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert payload["pages"] == [
        {"file": "trang_1.jpg", "index": 1, "status": "done",
         "warnings": [{"code": "auto_rotated", "message": "đã tự xoay 180°"}]},
        {"file": "trang_2.jpg", "index": 2, "status": "done",
         "warnings": [{"code": "grid_text_lines", "message": "không thấy đường kẻ, tách dòng theo chữ"},
                      {"code": "registration_no_gap", "message": "số 35 bị thiếu giữa trang 1 và trang 2"}]},
    ]
    # row_index stays the order of the records found on the page.
    assert [(r["page_index"], r["row_index"]) for r in payload["records"]] == \
        [(p, r) for p in (1, 2) for r in range(1, 6)]
    # The schema is not vacuous: a page warning without its message fails.
    del payload["pages"][1]["warnings"][1]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, json.loads(SCHEMA.read_text(encoding="utf-8")))


# --- shown to the supervisor and the contractor --------------------------------------------------

@pytest.mark.usefixtures("app_env")
def test_supervisor_dashboard_and_contractor_book_page_show_the_gap(
    users: dict[str, User], units: dict[str, int], sessions: sessionmaker[Session], call: Callable[..., Any],
) -> None:
    book_id = build_numbered_book(sessions, units["xa_a"], LOST_35)
    call(recheck_book_sequence, users["contractor"], book_id)
    message = "số 35 bị thiếu giữa trang 1 và trang 2"
    dashboard = open_page(signed_in_app(users["supervisor"]), "app_pages/dashboard.py")
    assert not dashboard.exception
    assert dashboard.tabs[3].label == "Thiếu/trùng số đăng ký (1)"
    tables = [frame.value for frame in dashboard.tabs[3].dataframe]
    assert tables[0].iloc[0]["Số bị thiếu"] == 1 and list(tables[1]["Cảnh báo"]) == [message]
    books = open_page(signed_in_app(users["contractor"]), "app_pages/contractor_books.py")
    assert not books.exception
    shown = [frame.value for frame in books.dataframe if "Cảnh báo" in frame.value.columns]
    assert list(shown[0]["Cảnh báo"]) == ["", message]
