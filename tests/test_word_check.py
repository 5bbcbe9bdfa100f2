"""The given and middle names weighed by AsterNet and by the second reader's bare letters (issue 13:
"Căm" for "Văn", "CMinh" for "Minh", beyond the word lexicon's own evidence bound)."""

from __future__ import annotations

from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE
from ocr.pipeline import PageResult
from ocr.read.engines.ppocr_second import LETTER_ALPHABET
from ocr.read.word_check import NAME_WORDS_REREAD, word_rivals
from samples.page_scores import match_truth_rows
from tests import ctc_frames
from tests.read_pages import read_family_page

ALPHABET = ("", *"PhạmVăCnHảiâuTrầ ")


def test_a_word_the_second_reader_spells_replaces_a_misread_one() -> None:
    # AsterNet: "Căn" with its first letter 0.9 against 0.05 for "V"; PP-OCR: "Van".
    primary = ctc_frames.written("Phạm Căn Hải", ALPHABET, {5: {"C": 0.9, "V": 0.05}})
    letters = ctc_frames.written("Pham Van Hai", LETTER_ALPHABET)
    verdict = word_rivals("Phạm Căn Hải", primary, letters, first=1)
    assert verdict is not None and verdict.line == "Phạm Văn Hải"
    assert 2 < verdict.primary_nats < 4  # what AsterNet alone gave up: ln(0.9 / 0.05)


def test_words_both_readers_read_alike_stand() -> None:
    primary = ctc_frames.written("Phạm Căn Hải", ALPHABET, {5: {"C": 0.9, "V": 0.05}})
    letters = ctc_frames.written("Pham Can Hai", LETTER_ALPHABET)
    assert word_rivals("Phạm Căn Hải", primary, letters, first=1) is None


def test_the_tone_of_a_word_stays_the_first_readers_call() -> None:
    # AsterNet's frames prefer "Hài" by 2.9 nats to the "Hải" read (the lexicon's choice); PP-OCR cannot see tones.
    primary = ctc_frames.written("Phạm Văn Hải", ("", *"PhạmVănHảià "), {10: {"à": 0.9, "ả": 0.05}})
    letters = ctc_frames.written("Pham Van Hai", LETTER_ALPHABET)
    assert word_rivals("Phạm Văn Hải", primary, letters, first=1) is None


def test_the_words_of_a_free_text_keep_the_case_they_were_read_with() -> None:
    # "Bệnh giù": AsterNet's "ù" 0.9 against 0.05 for "à"; PP-OCR: "Benh gia".
    alphabet = ("", *"BệnhgiùàaBG ")
    primary = ctc_frames.written("Bệnh giù", alphabet, {7: {"ù": 0.9, "à": 0.05}})
    letters = ctc_frames.written("Benh gia", LETTER_ALPHABET)
    verdict = word_rivals("Bệnh giù", primary, letters, capitalised=False)
    assert verdict is not None and verdict.line == "Bệnh già"


# A generated page (tuning family faded_rulings, page 3, seed 4242, as bench.robustness draws it):
# its hand's "Công" and "Nam" are read "Lông" and "Mum" by AsterNet alone.
def _page() -> tuple[PageResult, dict]:
    return read_family_page("faded_rulings", 3, 4242)


def test_on_a_page_misread_name_words_are_read_again_with_doubt() -> None:
    result, truth = _page()
    keys = ("child_name", "adoptive_father_name", "adoptive_mother_name", "birth_father_name", "birth_mother_name")
    names = [(fields[key]["value"], result.proposals[d][key])
             for t, d in match_truth_rows(result.analysis, truth).items()
             for fields in [truth["records"][t]["fields"]] for key in keys if key in fields]
    reread = [(written, p) for written, p in names if NAME_WORDS_REREAD in p.issues]
    assert sum(written == p.value for written, p in reread) >= 2
    for _, proposal in reread:
        assert proposal.confidence <= CONTRADICTION_MAX_CONFIDENCE
        assert proposal.alternatives and proposal.alternatives[0] != proposal.value  # as first read, offered
