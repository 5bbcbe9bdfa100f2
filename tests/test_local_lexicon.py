"""Unit lexicons: names and places officials confirmed in a unit's books are words its pages decode with.

Real inputs throughout: lines rendered with the handwriting fonts, a ledger page rendered by
``samples.render`` with local values written into its cells, the real AsterNet model, and a
migrated SQLite database in which an official approves corrected values.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import AuditEvent, Book, FieldStatus, FieldValue, Page, Record, User
from ocr.fields.lexicon import lexicon_for
from ocr.fields.local_lexicon import HomeUnit, LocalLexicon, local_word_logp
from ocr.image.loading import InputFile
from ocr.layout.page import analyze_page
from ocr.pipeline import PageTask
from ocr.read.engines.asternet import get_asternet
from ocr.reader import build_reader
from ocr.recognition import (
    constraints_for,
    decode_cell,
    field_constraints,
    home_area,
    lexicon_share,
    lexicon_with_local,
)
from samples.lines import handwriting_fonts, render_line
from samples.render import PageOptions, render_page
from workbench.book_types import get_book_type
from workbench.books import BookIdentity, get_or_create_unit
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files
from workbench.review.review import save_record
from workbench.training.lexicon_growth import count_unit_lexicon, lexicon_units, local_lexicon_for_unit
from workbench.training.rerecognize import rerecognize_open_records

FONTS = {f.stem.split("-")[0].split("[")[0]: f for f in handwriting_fonts()}  # "Lobster", "DancingScript", ...

# A hamlet and a Hmong woman's name that the shipped lexicons read as near, better-known words
# (when measured: "Ấp Rạch Vẹp", "Lâu Thị Mỹ") on the page below; officials of Xã Tân Lập
# confirmed them earlier.
HAMLET, MOTHER = "Ấp Rạch Vọp", "Lầu Thị Mỷ"


# --- the lexicon itself -------------------------------------------------------------------------

def test_local_lexicon_normalizes_words_and_is_equal_by_content_across_pickling() -> None:
    local = LocalLexicon.from_counts({"place": {"Bản Lướt": 2, "bản Lướt, xã Tà Xi": 1, "Xóm 4": 0},
                                      "person_name": {}})
    assert local.counts("place") == {"bản": 3, "lướt": 3, "xã": 1, "tà": 1, "xi": 1}
    assert local.field_types == ("place",) and local.size == 5 and local.counts("person_name") == {}
    copy = pickle.loads(pickle.dumps(local))
    assert copy == local and hash(copy) == hash(local)
    assert LocalLexicon.from_counts({"place": {"Bản Lướt": 1}}) != local
    assert not LocalLexicon() and LocalLexicon().size == 0
    # The book's unit path is part of the content: same words, another unit, another lexicon.
    home = local.with_home((HomeUnit("Xã Tà Xi", "ward"), HomeUnit("Huyện Bắc Yên", "district")))
    assert home != local and home.counts("place") == local.counts("place") and home.size == local.size
    assert home == LocalLexicon(local.entries, (("Xã Tà Xi", "ward"), ("Huyện Bắc Yên", "district")))
    assert LocalLexicon(home=(HomeUnit("Xã Tà Xi"),)) and LocalLexicon(home=(HomeUnit("Xã Tà Xi"),)).size == 0
    task = PageTask(page_id=1, data=b"", name="p.png", frame_index=0, layout=get_book_type("khai_sinh").layout,
                    local=home)
    copy_home = pickle.loads(pickle.dumps(task)).local  # travels to worker processes
    assert copy_home == home and copy_home.home == home.home and hash(copy_home) == hash(home)


def test_local_words_join_the_open_lexicon_and_never_the_closed_lists() -> None:
    place = lexicon_for("place")
    merged = lexicon_with_local("place", LocalLexicon.from_counts({"place": {"Bản Lướt": 1, "Buôn Ktul": 30}}))
    shipped = lexicon_with_local("place")
    assert merged.word_score is not None and shipped.word_score is not None
    assert merged.word_score("Lướt") > shipped.word_score("Lướt")  # a syllable the unit confirmed
    assert shipped.word_score("Lưới") == merged.word_score("Lưới")  # other words keep their scores
    assert local_word_logp(1) < local_word_logp(30) <= local_word_logp(10_000) < 0
    assert merged.word_score("Ktul") > shipped.word_score("Ktul")  # outside the shipped lexicon until now
    assert place.with_words({"ktul": local_word_logp(30)}).word_score("Ktul") == local_word_logp(30)
    # A local word never enters a closed list (sex, ethnicity, nationality).
    ethnicity = LocalLexicon.from_counts({"ethnicity": {"Mường Lò": 5}})
    assert lexicon_with_local("ethnicity", ethnicity) is lexicon_with_local("ethnicity")
    assert lexicon_share("Buôn Ktul", "place") == 0.5
    assert lexicon_share("Buôn Ktul", "place", LocalLexicon.from_counts({"place": {"Buôn Ktul": 1}})) == 1.0
    # No local words for the type: the cached shipped constraints object itself.
    alphabet = get_asternet().alphabet
    assert constraints_for("date", alphabet, ethnicity) is field_constraints("date", alphabet)
    assert constraints_for("person_name", alphabet, ethnicity) is field_constraints("person_name", alphabet)


# --- a rendered line ----------------------------------------------------------------------------

@pytest.mark.model
def test_rendered_local_hamlet_is_read_as_written_once_the_unit_knows_it() -> None:
    recognizer = get_asternet()
    evidence = recognizer.line_log_probs([render_line("Bản Lướt", FONTS["Lobster"], size=44),
                                          render_line("Nguyễn Văn An", FONTS["DancingScript"], size=44)])
    hamlet, name = evidence
    # Shipped lexicons only: a better-known near word ("Lưới" when measured) may win over "Lướt"; what this
    # reading is belongs to the model, so only its nearness is checked (the unit's words must then make it exact).
    shipped = decode_cell([hamlet], "place")[0].reading.text
    assert Levenshtein.distance(shipped, "Bản Lướt") <= 2, shipped
    unit = LocalLexicon.from_counts({"place": {"Bản Lướt": 1}, "person_name": {"Nguyễn Văn Ân": 3}})
    decoded = decode_cell([hamlet], "place", unit)[0]
    assert decoded.reading.text == "Bản Lướt"
    # Another unit's words change nothing here; an ordinary name is not pulled to a near local one.
    other = LocalLexicon.from_counts({"place": {"Bản Lưng, xã Tà Xùa": 4}})
    assert decode_cell([hamlet], "place", other)[0].reading.text == shipped
    assert decode_cell([name], "person_name", unit)[0].reading.text == "Nguyễn Văn An"


# --- the workbench: approvals feed ingest and re-recognition ------------------------------------

def _paste(page: np.ndarray, box, text: str, font_name: str) -> None:
    """Write ``text`` (rendered handwriting) into a ledger cell, replacing what was there."""
    margin = 6
    x, y, w, h = box.x, box.y, box.w, box.h
    page[y + margin : y + h - margin, x + margin : x + w - margin] = 245
    line = render_line(text, FONTS[font_name], size=44)
    scale = min(1.0, (w - 2 * margin - 4) / line.shape[1], (h - 2 * margin - 4) / line.shape[0])
    if scale < 1:
        line = cv2.resize(line, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    top, left = y + (h - line.shape[0]) // 2, x + margin + 2
    region = page[top : top + line.shape[0], left : left + line.shape[1]]
    region[:] = np.minimum(region, cv2.cvtColor(line, cv2.COLOR_GRAY2BGR))


@pytest.fixture(scope="module")
def local_page() -> bytes:
    """A khai_sinh page (one filled row) whose birth place and mother are the unit's local values."""
    layout = get_book_type("khai_sinh").layout
    image, _ = render_page("khai_sinh", 7, PageOptions(filled_rows=1, skew_deg=0.0, stains=0, noise=2.0, blur=0.3,
                                                        light=0.05, jpeg_quality=100))
    analysis = analyze_page(image, layout)
    page = analysis.deskewed.copy()
    boxes = {cell.key: cell.box for cell in analysis.records[0].cells}
    _paste(page, boxes["birth_place"], HAMLET, "DancingScript")
    _paste(page, boxes["mother_name"], MOTHER, "Lobster")
    ok, png = cv2.imencode(".png", page)
    assert ok
    return png.tobytes()


def _approve_local_values(sessions: sessionmaker[Session], official: User, book_id: int) -> None:
    with transaction(sessions) as session:
        record = session.scalars(select(Record).where(Record.book_id == book_id)).first()
        assert record is not None
        result = save_record(session, official, record.id, record.version,
                             {"birth_place": HAMLET, "mother_name": MOTHER}, "approve")
    assert result.fields_corrected == 2


def _row_one(sessions: sessionmaker[Session], book_id: int) -> dict[str, str]:
    with sessions() as session:
        rows = session.execute(
            select(FieldValue.key, FieldValue.proposed_value).join(Record)
            .where(Record.book_id == book_id, Record.row_index == 1)
        )
        return {key: value for key, value in rows}


def _recognition_local_words(sessions: sessionmaker[Session], book_id: int) -> list[int]:
    with sessions() as session:
        settings = session.scalars(
            select(AuditEvent.step_settings).join(Page, Page.id == AuditEvent.entity_id)
            .where(AuditEvent.action == "pipeline_step", AuditEvent.step_name == "recognition",
                   AuditEvent.entity_type == "page", Page.book_id == book_id)
        ).all()
    return [s["local_words"] for s in settings]


def test_approved_local_values_are_proposed_on_the_units_next_pages_and_nowhere_else(
    wb, sessions: sessionmaker[Session], units: dict[str, int], users: dict[str, User],
    build_book: Callable[..., int], local_page: bytes,
) -> None:
    data_dir = wb.settings.data_dir
    # An official of Xã Tân Lập corrects a record of an earlier book to the local hamlet and name.
    _approve_local_values(sessions, users["official"], build_book(units["xa_a"], [0.4]))
    with sessions() as session:
        counted = count_unit_lexicon(session, units["xa_a"])
        assert counted.values["place"][HAMLET] == 1 and counted.words["person_name"][MOTHER.split()[-1].lower()] == 1
        local = local_lexicon_for_unit(session, units["xa_a"])
    assert local.counts("place")["vọp"] == 1
    # The book's unit path from the unit table, smallest first, for the place decoder.
    assert local.home == (HomeUnit("Xã Tân Lập", "ward"), HomeUnit("Huyện Đồng Phú", "district"),
                          HomeUnit("Tỉnh Thử Nghiệm", "province"))

    page = InputFile("trang_moi.png", data=local_page)
    same_unit = ingest_files(sessions, data_dir, [page], identity=BookIdentity("Xã Tân Lập", "khai_sinh", 2004))
    other_unit = ingest_files(sessions, data_dir, [page], identity=BookIdentity("Xã Lộc Tấn", "khai_sinh", 2004))
    assert same_unit.pages_done == other_unit.pages_done == 1

    assert _row_one(sessions, same_unit.book_id)["birth_place"] == HAMLET
    assert _row_one(sessions, same_unit.book_id)["mother_name"] == MOTHER
    assert _row_one(sessions, other_unit.book_id)["birth_place"] != HAMLET
    # (The plain model may read the name right anyway: "Lầu" is a listed surname, "Mỷ" is legible.)
    # The audit says which lexicon made the proposals.
    assert _recognition_local_words(sessions, same_unit.book_id) == [local.size]
    assert _recognition_local_words(sessions, other_unit.book_id) == [0]


def test_a_unit_known_only_by_name_is_resolved_to_every_commune_of_that_name(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        unit_id = get_or_create_unit(session, "Xã Đại Lãnh").id  # as ingest and `make run` create it
    with sessions() as session:
        local = local_lexicon_for_unit(session, unit_id)
    assert local.home == (HomeUnit("Xã Đại Lãnh", "ward"),) and local.size == 0
    home = home_area(local)
    assert home is not None and home.at("district") == {"Vạn Ninh", "Đại Lộc"}  # Khánh Hòa, Quảng Nam
    assert home_area(LocalLexicon()) is None


def test_rerecognition_decodes_each_book_with_its_units_words(
    wb, sessions: sessionmaker[Session], units: dict[str, int], users: dict[str, User],
    build_book: Callable[..., int], local_page: bytes,
) -> None:
    data_dir = wb.settings.data_dir
    _approve_local_values(sessions, users["official"], build_book(units["xa_a"], [0.4]))
    # Pages stored without OCR in Xã Tân Lập and in its sibling commune Xã Tân Hưng.
    page = InputFile("trang_moi.png", data=local_page)
    books = {
        name: ingest_files(sessions, data_dir, [page], identity=BookIdentity(name, "khai_sinh", 2005),
                           options=IngestOptions(run_ocr=False)).book_id
        for name in ("Xã Tân Lập", "Xã Tân Hưng")
    }
    report = rerecognize_open_records(sessions, data_dir, build_reader(), book_ids=list(books.values()))
    assert report.pages == 2 and not report.pages_failed
    assert _row_one(sessions, books["Xã Tân Lập"])["birth_place"] == HAMLET
    assert _row_one(sessions, books["Xã Tân Lập"])["mother_name"] == MOTHER
    # Siblings don't share: Xã Tân Hưng's pages were read with no local words (the audit below);
    # whether the plain model reads the values anyway depends on the crop, not on the lexicon.
    with sessions() as session:
        events = session.execute(
            select(Book.unit_id, AuditEvent.new_value).join(Page, Page.id == AuditEvent.entity_id)
            .join(Book, Book.id == Page.book_id).where(AuditEvent.action == "rerecognize")
        ).all()
    local_words = {unit_id: new["local_words"] for unit_id, new in events}
    assert local_words[units["xa_b"]] == 0 < local_words[units["xa_a"]]


def test_a_commune_decodes_with_its_own_and_its_districts_words_not_its_siblings(
    sessions: sessionmaker[Session], units: dict[str, int], users: dict[str, User], build_book: Callable[..., int],
) -> None:
    approvals = {build_book(units["huyen"], [0.4]): "Thôn Ka Lăng", build_book(units["xa_b"], [0.4]): "Xóm Bàu Sen"}
    with transaction(sessions) as session:
        for book_id, hamlet in approvals.items():
            record = session.scalars(select(Record).where(Record.book_id == book_id)).one()
            save_record(session, users["admin"], record.id, record.version, {"birth_place": hamlet}, "approve")
    with sessions() as session:
        assert lexicon_units(session, units["xa_a"]) == [units["xa_a"], units["huyen"], units["tinh"]]
        words = local_lexicon_for_unit(session, units["xa_a"]).counts("place")
        assert words["lăng"] == 1 and "bàu" not in words
        assert local_lexicon_for_unit(session, units["other_xa"]).counts("place") == {}
        statuses = session.scalars(select(FieldValue.status).where(FieldValue.key == "birth_place",
                                                                   FieldValue.final_value.is_not(None))).all()
    assert set(statuses) == {str(FieldStatus.CORRECTED)}
