"""A field about to be proposed as sure is read a second time from its lines drawn wider; when the two
readings differ it is not sure (issue 13: a confidently wrong digit or tone mark)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE, ConfidenceBands
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import LineLogProbs
from ocr.read.second_look import SECOND_LOOK_WIDTH, SECOND_READING_DIFFERS, widened
from ocr.recognition import propose_field, second_looked
from ocr.types import Box, CellImage, FieldProposal, LineReading
from samples.lines import handwriting_fonts, render_line
from tests import ctc_frames

HIGH = ConfidenceBands().high
ALPHABET = ("<blank>", *"0123456789/", *"ThủùyPhạmNgọc ")
LINE_WIDTH = 200


class WidthReader:
    """Reads ``narrow`` from a line of LINE_WIDTH pixels and ``wide`` from any wider one (a reader
    whose guess about one glyph depends on how the writing reaches its frames)."""

    name = "width-reader"

    def __init__(self, narrow: str, wide: str) -> None:
        self.narrow, self.wide = narrow, wide
        self.widths: list[int] = []

    def line_log_probs(self, lines: Sequence[np.ndarray]) -> list[LineLogProbs]:
        self.widths += [line.shape[1] for line in lines]
        return [ctc_frames.written(self.narrow if line.shape[1] <= LINE_WIDTH else self.wide, ALPHABET)
                for line in lines]

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineReading]:
        raise AssertionError("a CTC reader is decoded with the field's constraints")


def _cell(key: str) -> CellImage:
    return CellImage(key, Box(0, 0, LINE_WIDTH, 40), [np.full((40, LINE_WIDTH), 255, np.uint8)], is_empty=False)


def test_widened_keeps_the_height_and_stretches_the_width() -> None:
    line = np.zeros((48, 301), np.uint8)
    assert widened(line).shape == (48, round(301 * SECOND_LOOK_WIDTH))


@pytest.mark.parametrize(("field_type", "first", "second"), [
    ("date", "01/05/1972", "04/05/1972"),
    ("person_name", "Phạm Thủy Ngọc", "Phạm Thùy Ngọc"),
])
def test_a_sure_field_read_otherwise_the_second_time_is_not_sure(field_type: str, first: str, second: str) -> None:
    reader = WidthReader(first, second)
    sure = FieldProposal("value", first, 0.97, alternatives=["x"])
    (looked,) = second_looked([sure], [(_cell("value"), field_type)], reader)
    assert looked.value == first  # the first reading stays the proposal: nothing says which one is right
    assert looked.confidence == CONTRADICTION_MAX_CONFIDENCE < HIGH
    assert SECOND_READING_DIFFERS.message in looked.messages
    assert looked.issues == [SECOND_READING_DIFFERS]  # carried typed, with its code and severity
    assert looked.alternatives == [second, "x"]  # the second reading is offered first
    assert reader.widths == [round(LINE_WIDTH * SECOND_LOOK_WIDTH)]


def test_a_field_read_the_same_twice_keeps_its_confidence() -> None:
    reader = WidthReader("01/05/1972", "01/05/1972")
    sure = FieldProposal("birth_date", "01/05/1972", 0.97)
    assert second_looked([sure], [(_cell("birth_date"), "date")], reader) == [sure]


@pytest.mark.parametrize(("field_type", "value", "confidence"), [
    ("date", "01/05/1972", HIGH - 0.01),  # not about to be sure: nothing to guard
    ("registration_no", "156", 0.97),  # checked against the page's run instead
    ("place", "Phạm", 0.97),  # places and list entries are picked from many characters
    ("nationality", "Phạm", 0.97),
    ("date", "", 0.97),  # a sure empty cell has no lines to read again
])
def test_only_sure_readings_of_dates_and_names_are_read_again(field_type: str, value: str,
                                                                     confidence: float) -> None:
    reader = WidthReader("01/05/1972", "04/05/1972")
    proposal = FieldProposal("value", value, confidence)
    assert second_looked([proposal], [(_cell("value"), field_type)], reader) == [proposal]
    assert reader.widths == []


@pytest.mark.model
def test_clear_writing_read_by_the_shipped_reader_stays_sure() -> None:
    font = next(f for f in handwriting_fonts() if "Dancing" in f.name)
    line = render_line("12/05/1987", font, size=44)
    proposal = propose_field(CellImage("birth_date", Box(0, 0, 1, 1), [line], False), "date", get_asternet())
    assert proposal.value == "12/05/1987"
    assert proposal.confidence >= HIGH
    assert SECOND_READING_DIFFERS.message not in proposal.messages
