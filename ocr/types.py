"""Dataclasses at the boundary between the pure OCR pipeline and the services.

Everything here is plain data: images are numpy arrays, boxes are integer pixel
rectangles in the coordinates of the *deskewed* page unless stated otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ocr.page_warnings import PageWarning

# Field types used by the book-type templates (workbench/templates/*.yaml).
FIELD_TYPES = (
    "registration_no",
    "date",
    "person_name",
    "sex",
    "ethnicity",
    "nationality",
    "place",
    "free_text",
)


@dataclass(frozen=True)
class Box:
    """Axis-aligned pixel rectangle (x, y = top-left corner)."""

    x: int
    y: int
    w: int
    h: int

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    @classmethod
    def from_list(cls, values: list[int] | tuple[int, int, int, int]) -> Box:
        x, y, w, h = (int(v) for v in values)
        return cls(x, y, w, h)


@dataclass(frozen=True)
class ColumnSpec:
    """One printed column of a ledger, as the book-type template declares it."""

    key: str
    label: str
    field_type: str
    width: float  # relative width hint, used when rulings are missing


@dataclass(frozen=True)
class LedgerLayout:
    """The columns of one book type, left to right."""

    book_type: str
    columns: tuple[ColumnSpec, ...]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclass
class ProcessingStep:
    """One machine step with its settings and timing (kept in the audit trail)."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class CellImage:
    """One field cell of one record."""

    key: str
    box: Box  # on the deskewed page
    lines: list[np.ndarray] = field(default_factory=list)  # grayscale text-line crops, top to bottom
    is_empty: bool = True
    # For a cell judged empty (0 otherwise): writing-like ink pixels inside it (away from its
    # rulings), whoever they were given to. An empty cell with ink in it is a doubtful "empty"
    # (too little ink for a line, or strokes given to a neighbour), never a confident one.
    ink_pixels: int = 0
    # For a cell judged empty: a second look at lower contrast found writing-like strokes too pale
    # for the text mask (faded ink on yellowed paper). Writing an official can see is never a sure "".
    faint_ink: bool = False


@dataclass
class RecordRegion:
    """One ledger row = one registration."""

    row_index: int  # 1-based order of data rows top to bottom on the page
    box: Box
    cells: list[CellImage] = field(default_factory=list)


@dataclass
class PageAnalysis:
    """Result of load -> QA -> crop/deskew -> segmentation for one page image."""

    deskewed: np.ndarray  # BGR uint8, the image the UI shows
    deskew_angle: float  # degrees the scan was rotated by to level it
    records: list[RecordRegion]
    header_box: Box | None = None
    # 2x3 affine matrix mapping original-image pixel coords to deskewed-image coords.
    transform: np.ndarray | None = None
    warnings: list[PageWarning] = field(default_factory=list)  # QA: blank, rotated_90, upside_down, ...
    steps: list[ProcessingStep] = field(default_factory=list)


@dataclass(frozen=True)
class CharConfidence:
    """A recognised character, its probability and its x-span on the line image."""

    char: str
    confidence: float
    x0: int = 0
    x1: int = 0


@dataclass
class LineReading:
    """What a recognizer read on one text-line image."""

    text: str
    chars: list[CharConfidence] = field(default_factory=list)
    score: float = 0.0  # engine's own line score in [0, 1]
    # The highest probability any frame gave a character it did not emit: a character the path
    # may have dropped or swapped (a "1" lost from "27/12" leaves a frame where "1" rivals the
    # blank, and no trace in the emitted characters' probabilities). 0.0 when the engine has no frames.
    rival: float = 0.0


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one field value (ocr.fields.validate and the record and page checks)."""

    code: str  # stable identifier, e.g. "invalid_calendar_date", "birth_after_registration"
    message: str  # Vietnamese, shown to officials (what the field row stores, FieldValue.messages)
    severity: str = "error"  # "error" (must be checked) | "warning" (probably fine, look again)


@dataclass
class FieldProposal:
    """A proposed value for one field, with a calibrated confidence."""

    key: str
    value: str
    confidence: float  # calibrated probability that value is exactly right
    # The recognised characters of each text line of the cell, top to bottom.
    char_lines: list[list[CharConfidence]] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    issues: list[FieldIssue] = field(default_factory=list)  # what the validators and checks found
    engine: str = ""

    @property
    def chars(self) -> list[CharConfidence]:
        """Every line's characters in reading order (no mark where a line ends)."""
        return [c for line in self.char_lines for c in line]

    @property
    def messages(self) -> list[str]:
        """The issues' Vietnamese messages, in order (what officials read)."""
        return [i.message for i in self.issues]
