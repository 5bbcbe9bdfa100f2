"""A place cell weighed by AsterNet and by the second reader's bare letters with the gazetteer (issue 13:
"Vạn Ninh" read "Lạn Ninh" or "Vân Minh" stays as read when only the first reader's frames count)."""

from __future__ import annotations

from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE
from ocr.pipeline import PageResult
from ocr.places.decoding import decode_place_cell
from ocr.places.place_check import PLACE_REREAD, place_rival
from ocr.read.decoding import DecodedLine, greedy_decode
from ocr.read.engines.base import LineLogProbs
from ocr.read.engines.ppocr_second import LETTER_ALPHABET
from samples.page_scores import match_truth_rows
from tests import ctc_frames
from tests.read_pages import read_family_page

ALPHABET = ("", *"VLạnThọ,NiKáhHòaMâ ")


def _as_read(primary: LineLogProbs) -> list[DecodedLine]:
    reading = greedy_decode(primary)
    return [DecodedLine(reading, reading, reading.text)]


def test_a_district_the_second_reader_spells_replaces_a_misread_one() -> None:
    # AsterNet: "Lạn Ninh" with its first letter 0.9 against 0.05 for "V", too sure for the gazetteer
    # alone to move; PP-OCR: "Van Ninh".
    primary = ctc_frames.written("Vạn Thọ, Lạn Ninh, Khánh Hòa", ALPHABET, {9: {"L": 0.9, "V": 0.05}})
    alone = decode_place_cell([primary], _as_read(primary))
    assert [d.reading.text for d in alone] == ["Vạn Thọ, Lạn Ninh, Khánh Hòa"]
    letters = ctc_frames.written("Van Tho, Van Ninh, Khanh Hoa", LETTER_ALPHABET)
    rescored = place_rival([primary], [letters], _as_read(primary))
    assert rescored is not None and [d.reading.text for d in rescored] == ["Vạn Thọ, Vạn Ninh, Khánh Hòa"]


def test_a_place_both_readers_read_alike_stands() -> None:
    primary = ctc_frames.written("Vạn Thọ, Lạn Ninh, Khánh Hòa", ALPHABET, {9: {"L": 0.9, "V": 0.05}})
    letters = ctc_frames.written("Van Tho, Lan Ninh, Khanh Hoa", LETTER_ALPHABET)
    assert place_rival([primary], [letters], _as_read(primary)) is None


def test_a_place_the_first_reader_is_sure_of_stands_against_the_second() -> None:
    # Each reader's evidence counts in full: AsterNet sure of "Minh" (0.97), PP-OCR barely of "Ninh".
    primary = ctc_frames.written("Vạn Thọ, Vạn Minh, Khánh Hòa", ALPHABET)
    letters = ctc_frames.written("Van Tho, Van Ninh, Khanh Hoa", LETTER_ALPHABET, {13: {"N": 0.5, "M": 0.45}})
    assert place_rival([primary], [letters], _as_read(primary)) is None


# A generated page (tuning family jittered_columns, page 1, seed 4242, as bench.robustness draws it):
# its hand's "Vạn Ninh" is read "Lạn Ninh" by AsterNet alone.
def _page() -> tuple[PageResult, dict]:
    return read_family_page("jittered_columns", 1, 4242)


def test_on_a_page_a_misread_place_is_read_again_with_doubt() -> None:
    result, truth = _page()
    places = [(truth["records"][t]["fields"][key]["value"], result.proposals[d][key])
              for t, d in match_truth_rows(result.analysis, truth).items() for key in ("death_place", "residence")]
    reread = [(written, p) for written, p in places if PLACE_REREAD in p.issues]
    assert any(written == p.value for written, p in reread)
    for _, proposal in reread:
        assert proposal.confidence <= CONTRADICTION_MAX_CONFIDENCE
        assert proposal.alternatives and proposal.alternatives[0] != proposal.value  # as first read, offered
