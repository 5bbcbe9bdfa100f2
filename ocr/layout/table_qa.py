"""Page quality checks that need the table's rulings: a ledger page turned upside down (the frame
sits low, the title band comes last), and writing beside the detected table (codes
``ink_left_of_table``, ``ink_right_of_table``; their texts are ocr.image.page_qa.WARNINGS_VI).
Moved here from ocr.image.page_qa, which imported the grid lazily (issue #18: stage order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.image.imaging import small_ink_gray
from ocr.image.page_qa import text_mask_of_gray
from ocr.layout.grid import find_rulings, frame_lines, writing_pixels
from ocr.page_warnings import PageWarning
from ocr.settings import GridSettings
from ocr.types import Box

INK_LEFT = PageWarning("ink_left_of_table")
INK_RIGHT = PageWarning("ink_right_of_table")


def _ascenders_below(mask: np.ndarray) -> tuple[bool, float]:
    """Whether horizontal text in the mask is upside down, with a 0..1 margin.

    Latin and Vietnamese letters put far more ink above the x-height band (ascenders, accents,
    capitals) than below it (a few descenders): in each text line compare the ink above and
    below the band of densest rows. A weak vote on its own (handwriting fonts loop below).
    """
    profile = (mask > 0).sum(axis=1).astype(np.float64)
    above = below = 0.0
    threshold = 0.02 * mask.shape[1] * 0.1
    rows = np.flatnonzero(profile > threshold)
    if len(rows) == 0:
        return False, 0.0
    # Split into text lines on empty rows.
    breaks = np.flatnonzero(np.diff(rows) > 1)
    for segment in np.split(rows, breaks + 1):
        a, b = int(segment[0]), int(segment[-1]) + 1
        if b - a < 6:
            continue
        line = profile[a:b]
        core = np.flatnonzero(line >= 0.5 * line.max())
        above += float(line[: core[0]].sum())
        below += float(line[core[-1] + 1 :].sum())
    total = above + below
    if total <= 0:
        return False, 0.0
    return below > above, abs(above - below) / total


def _title_band_side(mask: np.ndarray) -> int:
    """+1 when the printed title line is the first text band, -1 when it is the last (the page
    is upside down), 0 when neither or both."""
    height, width = mask.shape
    profile = (mask > 0).sum(axis=1)
    rows = np.flatnonzero(profile > 0.002 * width)
    if len(rows) == 0:
        return 0
    segments = np.split(rows, np.flatnonzero(np.diff(rows) > max(2, height // 150)) + 1)
    gap = max(6, width // 100)

    def looks_like_title(segment: np.ndarray) -> bool:
        # The title line: a long centred chunk (the book's name) flanked by at most a few
        # short ones (unit, year); a handwritten row breaks into many chunks across the columns.
        occupied = np.flatnonzero((mask[segment[0] : segment[-1] + 1] > 0).any(axis=0))
        if len(occupied) == 0:
            return False
        pieces = np.split(occupied, np.flatnonzero(np.diff(occupied) > gap) + 1)
        longest = max(pieces, key=lambda p: p[-1] - p[0])
        centred = abs((longest[0] + longest[-1]) / 2 - width / 2) < 0.08 * width
        return len(pieces) <= 5 and longest[-1] - longest[0] > 0.15 * width and centred

    first, last = looks_like_title(segments[0]), looks_like_title(segments[-1])
    return int(first) - int(last)


def ledger_upside_down(page: np.ndarray, analysis_width: int = 800) -> tuple[bool, float]:
    """Whether a levelled ledger page is upside down, with a 0..1 confidence.

    Three votes: the table frame sits lower on the page than the title margin above it (the
    title takes the top margin), the title is the first text band, and text has more ink above
    its x-height band than below.
    """
    small = small_ink_gray(page, analysis_width)
    height = small.shape[0]
    votes: list[float] = []
    h_peaks, v_peaks = find_rulings(small, GridSettings())
    if len(h_peaks) >= 3 and len(v_peaks) >= 2:  # a real printed table, not text mimicking lines
        top, bottom = frame_lines(h_peaks)
        top_margin, bottom_margin = top / height, 1 - bottom / height
        if abs(top_margin - bottom_margin) > 0.02:
            votes.append(1.0 if bottom_margin > top_margin else -1.0)
    mask = text_mask_of_gray(small)
    side = _title_band_side(mask)
    if side:
        votes.append(-float(side))
    flipped, margin = _ascenders_below(mask)
    votes.append((1.0 if flipped else -1.0) * min(1.0, margin) * 0.8)
    score = sum(votes) / len(votes)
    return score > 0, min(1.0, abs(score))


# Share of the table's writing that, found beside it, is worth a warning: one column holds
# roughly 5-10% of a page's writing; the synthetic benchmark pages have none beside the table.
INK_BESIDE_TABLE_MIN_SHARE = 0.04


@dataclass(frozen=True)
class InkBesideTable:
    """Writing found beside the detected table, level with it, as a share of the ink inside."""

    left: float
    right: float

    def warnings(self, min_share: float = INK_BESIDE_TABLE_MIN_SHARE) -> list[PageWarning]:
        """Warnings for the sides holding substantial writing (a column's worth is ~5-10%)."""
        sides = ((INK_LEFT, self.left), (INK_RIGHT, self.right))
        return [warning for warning, share in sides if share >= min_share]


def ink_beside_table(text: np.ndarray, table: Box) -> InkBesideTable:
    """How much writing lies left and right of the table, between its top and bottom.

    A ledger's entries all stand inside its frame; writing beside it means the frame was found
    too narrow (faint outer rulings) and whole columns are missing, or the margin holds notes.
    ``text`` is the page's ink without rulings (0/255); the paper edge and its shadow in the
    outermost 2% and the frame ruling's own width do not count.
    """
    width = text.shape[1]
    edge = max(4, round(0.02 * width))
    gap = max(6, round(width / 225))  # the frame ruling's own width
    level = text[max(0, table.y) : table.y + table.h]
    # All ink inside (rulings are already out of the mask) is within a few % of its writing
    # and a hundred times cheaper to count than the shapes.
    inside = int(np.count_nonzero(level[:, max(0, table.x) : table.x + table.w]))
    if inside == 0:
        return InkBesideTable(0.0, 0.0)
    left = writing_pixels(level[:, edge : max(edge, table.x - gap)])
    right = writing_pixels(level[:, min(width - edge, table.x + table.w + gap) : width - edge])
    return InkBesideTable(left / inside, right / inside)
