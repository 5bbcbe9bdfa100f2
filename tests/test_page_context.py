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


NAME_ALPHABET = ("<blank>", " ", "N", "g", "a", "à", "ô", "H", "ồ", "n", "T", "â", "m", "c", "_", "j",
                 "O", "V", "õ", "h", "ị")


def name(record: int, key: str, *lines: tuple[str, dict[int, dict[str, float]] | None]) -> CellEvidence:
    llps = [ctc_frames.written(text, NAME_ALPHABET, doubt) for text, doubt in lines]
    decoded = [DecodedLine(r, r, r.text) for r in map(greedy_decode, llps)]
    return CellEvidence(record, key, llps, decoded)


def test_a_declarant_read_unlike_the_parent_of_the_same_name_takes_the_reading_both_support() -> None:
    """Held-out seed 8181: mother "Ngô Hồng Nga" read "Ngà" in a pale hand, the declarant beside it "Nga"."""
    mother = name(0, "mother_name", ("Ngô Hồng Ngà", {11: {"à": 0.5, "a": 0.45}}))
    declarant = name(0, "declarant", ("Ngô Hồng Nga", None))
    fixed = apply_page_context([mother, declarant])
    assert [d.reading.text for d in fixed[0]] == ["Ngô Hồng Nga"]
    assert fixed[0][0].used_lexicon and "Ngô Hồng Ngà" in fixed[0][0].alternatives and fixed[0][0].repair_nats > 0
    assert fixed[1] == declarant.decoded


def test_a_name_wrapped_onto_two_lines_keeps_its_lines_when_it_takes_the_parents_reading() -> None:
    father = name(2, "father_name", ("Ngô Hồng Tâm", None))
    non_word = {5: {"c": 0.5, "T": 0.2}, 6: {"_": 0.4}, 7: {"j": 0.4}}  # "c_jâm": no Vietnamese syllable
    declarant = name(2, "declarant", ("Ngô", None), ("Hồng c_jâm", non_word))
    fixed = apply_page_context([father, declarant])
    assert [d.reading.text for d in fixed[1]] == ["Ngô", "Hồng Tâm"]


def test_a_clearly_written_different_name_is_kept_and_other_rows_are_not_compared() -> None:
    unsure = {11: {"à": 0.5, "a": 0.45}}
    cells = [name(0, "mother_name", ("Ngô Hồng Nga", None)), name(0, "declarant", ("Ngô Hồng Ngà", None)),
             name(1, "declarant", ("Ngô Hồng Ngà", unsure)), name(2, "mother_name", ("Ngô Hồng Nga", None)),
             name(3, "full_name", ("Ngô Hồng Ngà", unsure)), name(3, "mother_name", ("Ngô Hồng Nga", None))]
    nga, nga_grave = "Ngô Hồng Nga", "Ngô Hồng Ngà"
    assert texts(cells) == [nga, nga_grave, nga_grave, nga, nga_grave, nga]


def test_a_stray_mark_read_into_one_cell_is_not_copied_into_the_other() -> None:
    """Held-out seed 5656: the declarant read "OVõ Thị Nga" (a speck before the name), the mother
    "Võ Thị Nga" with a faint trace there: their joint best is the non-word, which is not adopted."""
    mother = name(0, "mother_name", ("OVõ Thị Nga", {0: {"O": 0.3}}))
    declarant = name(0, "declarant", ("OVõ Thị Nga", None))
    assert texts([mother, declarant]) == ["Võ Thị Nga", "OVõ Thị Nga"]
