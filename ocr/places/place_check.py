"""A place cell weighed by two readers whose mistakes differ (issue #13).

The gazetteer rescoring (ocr.places.decoding) may only make an edit the frames allow: "Vân Minh" in
a Khánh Hòa address stays, because AsterNet reads an "M" there, and "Vạn Ninh" is only offered.
PP-OCRv6 (ocr.read.engines.ppocr_second) reads the bare letters and separators of the same lines with
errors of its own ("Van Ninh"). So a place not proposed as sure is rescored once more with both
readers' evidence summed (the second reader's of the text without diacritics: tone marks stay
AsterNet's call), under the same evidence rule. A text that differs replaces the value; the field then
says so (PLACE_REREAD) and stays below the high band.
"""

from __future__ import annotations

from ocr.fields.issues import FieldIssue
from ocr.places.decoding import decode_place_cell
from ocr.places.index import HomeArea
from ocr.read.decoding import DecodedLine
from ocr.read.engines.base import LineLogProbs

PLACE_REREAD = FieldIssue(
    "place_reread",
    "Địa danh được đọc lại nhờ bộ đọc thứ hai (hai bộ đọc khác nhau): kiểm tra lại",
    severity="warning",
)


def place_rival(primary: list[LineLogProbs], letters: list[LineLogProbs], lines: list[DecodedLine],
                home: HomeArea | None = None) -> list[DecodedLine] | None:
    """The lines of a place cell (``lines``, as proposed, read on ``primary``'s frames; ``letters``:
    the second reader's bare-letter frames of the same lines) as both readers together read them with
    the gazetteer, or None when the proposal stands."""
    rescored = decode_place_cell(primary, lines, home, letters)
    if [d.reading.text for d in rescored] == [d.reading.text for d in lines]:
        return None
    return rescored
