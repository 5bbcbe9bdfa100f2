"""A second reading of the fields about to be proposed as sure, from the same line images drawn wider.

A reader that is confidently wrong about a glyph ("4" read "1", "Thùy" read "Thủy") is confident on
the pixels it was given; the same writing at another aspect ratio reaches it through other frames.
When the two readings disagree, the sure-looking value is a coin the reader tossed: the field is
not proposed as sure. Only the fields that would be sure are read again (the cost is one more
recognizer call per page on those lines), and only the field types whose single wrong character
is a wrong value (dates, names); a list entry or a place is picked from many characters, and a
registration number is checked against the page's run (ocr.read.page_context), which the second
reading, made without the page, would contradict (4242: 29 right numbers doubted, no wrong one).
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr.fields.issues import FieldIssue

# Widths tried on the tuning families (bench.robustness, seed 4242; x1.25, x1.5, x0.8, thicker
# strokes, x1.2 both ways): x1.25 disagreed on 2 of the 3 wrong sure values and on 1.6% of the right ones.
SECOND_LOOK_WIDTH = 1.25
SECOND_LOOK_TYPES = frozenset({"date", "person_name"})

SECOND_READING_DIFFERS = FieldIssue(
    "second_reading_differs",
    "Đọc lại lần hai cho kết quả khác: kiểm tra lại từng chữ, từng số",
    severity="warning",
)


def widened(line: np.ndarray, factor: float = SECOND_LOOK_WIDTH) -> np.ndarray:
    """The line image stretched horizontally by ``factor`` (height kept: the reader's input height)."""
    height, width = line.shape[:2]
    return cv2.resize(line, (max(1, round(width * factor)), height), interpolation=cv2.INTER_LINEAR)
