"""A name or place word read bare of its marks ("Tran" for "Trần", "Thon" for "Thôn") is half the
lexicon evidence of the word as usually written, so such a reading is not green (issue 13)."""

from __future__ import annotations

import pytest

from ocr.confidence import ConfidenceBands, load_calibrator
from ocr.fields import lexicon_for
from ocr.fields.local_lexicon import LocalLexicon, merged_lexicon
from ocr.read.decoding import DecodedLine
from ocr.recognition import CLOSED_VARIANT_SHARE, lexicon_share, read_field
from ocr.types import CharConfidence, LineReading

HIGH = ConfidenceBands().high


@pytest.mark.parametrize(("field_type", "word", "missed"), [
    ("person_name", "Tran", True),   # "Trần" is a thousand times as common
    ("person_name", "TRAN", True),
    ("person_name", "Van", True),
    ("person_name", "Trần", False),  # marks read
    ("person_name", "Minh", False),  # the bare spelling is the usual one
    ("person_name", "Hoa", False),   # "Hòa" is not ten times as common
    ("person_name", "Ksor", False),  # no spelling with marks at all
    ("place", "Thon", True),
    ("place", "Thôn", False),
    ("date", "12", False),           # pattern lexicons have no words
])
def test_a_word_bare_of_its_usual_marks(field_type: str, word: str, missed: bool) -> None:
    assert lexicon_for(field_type).marks_likely_missed(word) is missed


def test_a_unit_that_confirmed_the_bare_spelling_often_does_not_doubt_it() -> None:
    shipped = lexicon_for("person_name")
    assert shipped.marks_likely_missed("Tam")
    local = LocalLexicon.from_counts({"person_name": {"Nguyễn Văn Tam": 40}})
    assert not merged_lexicon(shipped, local).marks_likely_missed("Tam")


def test_lexicon_share_counts_a_bare_word_as_half() -> None:
    assert lexicon_share("Trần Quang Hoàng", "person_name") == 1.0
    assert lexicon_share("Tran Quang Hoàng", "person_name") == pytest.approx((CLOSED_VARIANT_SHARE + 2) / 3)


@pytest.mark.parametrize(("field_type", "value", "share"), [
    ("person_name", "Phạm Phương Hằng", 1.0),
    ("person_name", "Thạn Pương Hưn", 0.0),  # valid-looking syllables, none of them a name's
    ("place", "Đại Đồng, Đại Lộc, Quảng Nam", 1.0),
    ("place", "Vạn Thanh, Vên sinh, khênh", 0.6),  # "Vên", "khênh": syllables, not place words
    ("free_text", "Bệnh tim", 1.0),
])
def test_lexicon_share_counts_the_fields_own_words_not_every_syllable(field_type: str, value: str,
                                                                      share: float) -> None:
    assert lexicon_share(value, field_type) == pytest.approx(share)


def test_a_word_the_unit_confirmed_is_its_own() -> None:
    assert lexicon_for("person_name").is_word("Pương")  # a valid syllable: the decoders may say it
    assert not lexicon_for("person_name").is_field_word("Pương")
    local = LocalLexicon.from_counts({"person_name": {"Hồ Pương": 1}})
    assert merged_lexicon(lexicon_for("person_name"), local).is_field_word("Pương")
    assert lexicon_share("Hồ Pương", "person_name", local) == 1.0


def _sure(text: str) -> list[DecodedLine]:
    reading = LineReading(text, [CharConfidence(c, 0.995) for c in text], 0.995)
    return [DecodedLine(reading, reading, text)]


def test_the_same_sure_frames_give_a_bare_name_less_confidence_than_its_marked_spelling() -> None:
    calibrator = load_calibrator()
    marked = calibrator.probability(read_field("person_name", _sure("Trần Quang Hoàng")).features)
    bare = calibrator.probability(read_field("person_name", _sure("Tran Quang Hoàng")).features)
    assert bare < marked
    assert marked >= HIGH > bare
