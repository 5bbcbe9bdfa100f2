"""One codec writes OCR proposals onto field rows (issue #18): ingest and re-recognition both use it.

Checked on rows of a real migrated SQLite file (the `wb` fixture), read back in a fresh session so the
JSON columns' round trip is part of the test.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import FieldStatus, FieldValue, Page, Record
from ocr.types import Box, CellImage, CharConfidence, FieldIssue, FieldProposal, RecordRegion
from workbench.db import transaction
from workbench.intake.ingest import new_record
from workbench.intake.proposal_rows import char_confidence_rows, char_row_lines, write_proposal

PROPOSAL = FieldProposal(
    key="birth_date", value="12/05/2003", confidence=0.912345678,
    char_lines=[[CharConfidence("1", 0.987654321, 0, 9), CharConfidence("2", 0.5, 10, 19)],
                [CharConfidence("/", 0.33333333, 20, 24)]],  # two lines: a break row between them
    alternatives=["12/06/2003", "17/05/2003"],
    issues=[FieldIssue("birth_after_registration", "Ngày sinh sau ngày đăng ký")], engine="asternet+lexicon",
)
STORED = {
    "proposed_value": "12/05/2003",
    "confidence": 0.912345678,
    "char_confidences": [["1", 0.9877, 0, 9], ["2", 0.5, 10, 19], [" ", 1.0, 0, 0], ["/", 0.3333, 20, 24]],
    "alternatives": ["12/06/2003", "17/05/2003"],
    "messages": ["Ngày sinh sau ngày đăng ký"],
    "engine": "asternet+lexicon",
}


def _stored(row: FieldValue) -> dict[str, object]:
    return {name: getattr(row, name) for name in STORED}


def _first_field(sessions: sessionmaker[Session], book_id: int, key: str) -> int:
    with sessions() as session:
        return session.scalars(select(FieldValue.id).join(Record).where(Record.book_id == book_id,
                                                                        FieldValue.key == key)).first()


def test_a_proposal_written_onto_a_stored_row_reads_back_whole(
    sessions: sessionmaker[Session], build_book: Callable[..., int], units: dict[str, int],
) -> None:
    field_id = _first_field(sessions, build_book(units["xa_a"], [0.4]), "birth_date")
    with transaction(sessions) as session:
        row = session.get(FieldValue, field_id)
        assert row is not None
        before = (row.key, row.position, row.bbox, row.status, row.final_value)
        assert write_proposal(row, PROPOSAL) is row
    with sessions() as session:
        row = session.get(FieldValue, field_id)
        assert row is not None
        assert _stored(row) == STORED
        # What is not the proposal's is left alone: key, template position, cell box, review state.
        assert (row.key, row.position, row.bbox, row.status, row.final_value) == before


def test_confidence_is_clamped_and_an_empty_engine_is_null(
    sessions: sessionmaker[Session], build_book: Callable[..., int], units: dict[str, int],
) -> None:
    field_id = _first_field(sessions, build_book(units["xa_a"], [0.4]), "notes")
    for confidence, stored in ((1.7, 1.0), (-0.2, 0.0)):
        with transaction(sessions) as session:
            row = session.get(FieldValue, field_id)
            assert row is not None
            write_proposal(row, FieldProposal("notes", "", confidence))
        with sessions() as session:
            row = session.get(FieldValue, field_id)
            assert row is not None
            assert (row.proposed_value, row.confidence, row.char_confidences, row.alternatives, row.messages,
                    row.engine) == ("", stored, [], [], [], None)


def test_ingest_rows_are_the_codecs_rows(
    sessions: sessionmaker[Session], build_book: Callable[..., int], units: dict[str, int],
) -> None:
    """A new record's fields (ingest, segmentation editor) carry exactly what the codec writes, plus
    their key, template position and cell box."""
    book_id = build_book(units["xa_a"], [0.4])
    box = Box(300, 400, 180, 90)
    region = RecordRegion(row_index=7, box=Box(100, 400, 2000, 90),
                          cells=[CellImage("birth_date", box)])
    other = FieldProposal("notes", "ghi chú", 0.4, engine="")
    with transaction(sessions) as session:
        page = session.scalars(select(Page).where(Page.book_id == book_id)).one()
        record = new_record(page, region, {"birth_date": PROPOSAL, "notes": other})
        session.add(record)
        session.flush()
        record_id = record.id
    with sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        rows = {f.key: f for f in record.fields}
        assert _stored(rows["birth_date"]) == STORED
        assert rows["birth_date"].bbox == box.as_list() and rows["birth_date"].position == 0
        assert rows["notes"].position == 1 and rows["notes"].bbox is None and rows["notes"].engine is None
        assert all(f.status == FieldStatus.PROPOSED and f.final_value is None for f in record.fields)
        assert record.row_index == 7 and record.confidence == 0.4


def test_per_line_characters_are_stored_with_a_break_row_and_read_back_by_line() -> None:
    rows = char_confidence_rows(PROPOSAL)
    assert rows == STORED["char_confidences"]
    assert [["".join(r[0] for r in line)] for line in char_row_lines(rows)] == [["12"], ["/"]]
    assert char_row_lines([]) == [[]]
    assert char_confidence_rows(FieldProposal("notes", "", 0.5, char_lines=[[]])) == []
    assert PROPOSAL.chars == [c for line in PROPOSAL.char_lines for c in line]
