"""Page context: the registration-number run and the page's year correct misreads on evidence."""

from __future__ import annotations

from ocr.read.decoding import DecodedLine, greedy_decode
from ocr.read.engines.base import LineLogProbs
from ocr.read.page_context import REGISTRATION_DATE_KEY, REGISTRATION_NO_KEY, CellEvidence, apply_page_context
from tests import ctc_frames

ALPHABET = ("<blank>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "/")


def written(text: str, doubt: dict[int, dict[str, float]] | None = None) -> LineLogProbs:
    """Frames that read ``text``; ``doubt[i]`` replaces the probabilities of character i."""
    return ctc_frames.written(text, ALPHABET, doubt)


def cell(record: int, key: str, llp: LineLogProbs) -> CellEvidence:
    reading = greedy_decode(llp)
    return CellEvidence(record, key, [llp], [DecodedLine(reading, reading, reading.text)])


def texts(cells: list[CellEvidence]) -> list[str]:
    return [" ".join(d.reading.text for d in decoded) for decoded in apply_page_context(cells)]


def test_a_doubtful_number_out_of_the_run_takes_the_number_the_page_implies() -> None:
    # A ruling left of the cell read as a weak "1" in front of "290".
    misread = written("1290", {0: {"1": 0.7}})
    cells = [cell(0, REGISTRATION_NO_KEY, written("289")), cell(1, REGISTRATION_NO_KEY, misread),
             cell(2, REGISTRATION_NO_KEY, written("291"))]
    fixed = apply_page_context(cells)
    assert fixed[1][0].reading.text == "290"
    assert fixed[1][0].used_lexicon and "1290" in fixed[1][0].alternatives
    assert texts(cells)[0] == "289" and texts(cells)[2] == "291"


def test_a_clearly_written_gap_in_the_run_is_kept() -> None:
    cells = [cell(0, REGISTRATION_NO_KEY, written("289")), cell(1, REGISTRATION_NO_KEY, written("295")),
             cell(2, REGISTRATION_NO_KEY, written("291"))]
    assert texts(cells) == ["289", "295", "291"]


def test_without_a_run_nothing_changes() -> None:
    cells = [cell(0, REGISTRATION_NO_KEY, written("12")), cell(1, REGISTRATION_NO_KEY, written("40", {0: {"4": 0.6}}))]
    assert texts(cells) == ["12", "40"]


def test_a_doubtful_year_takes_the_page_year_only_if_dates_stay_in_order() -> None:
    doubtful = {9: {"4": 0.6, "1": 0.35}}  # the last digit of the year
    cells = [cell(0, REGISTRATION_DATE_KEY, written("08/10/1981")),
             cell(1, REGISTRATION_DATE_KEY, written("10/10/1984", doubtful)),
             cell(2, REGISTRATION_DATE_KEY, written("13/10/1981")),
             cell(3, REGISTRATION_DATE_KEY, written("20/10/1981")),
             cell(4, REGISTRATION_DATE_KEY, written("02/01/1984", doubtful))]  # after 20/10: not 1981
    assert texts(cells) == ["08/10/1981", "10/10/1981", "13/10/1981", "20/10/1981", "02/01/1984"]


def test_other_columns_are_untouched() -> None:
    cells = [cell(0, "birth_date", written("08/10/1981")), cell(1, "birth_date", written("10/10/1984")),
             cell(2, "birth_date", written("13/10/1981"))]
    assert texts(cells) == ["08/10/1981", "10/10/1984", "13/10/1981"]
