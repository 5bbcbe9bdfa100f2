"""Does this page belong to the book it was uploaded into? Two pieces of evidence, both pure.

Columns (no OCR needed): the page's vertical rulings are matched against every book type's
template with the grid's own alignment (ocr.layout.grid.match_column_rulings) and priced the same way
(width ratios, template edges without a ruling, rulings without a template edge). A marriage
page in a birth book leaves a ruling no birth column explains; a death page has the same
number of columns as a marriage page but other proportions. The declared type is doubted only
when another type explains the rulings clearly better (COLUMN_MARGIN), because print runs
differ from the width hints by about +-35% a column.

Title (when OCR runs): the printed title above the table ("SỔ ĐĂNG KÝ KẾT HÔN") is read and
compared, accents ignored, with each type's title. A title that names the declared type settles
it; a title that clearly names another type is a mismatch on its own.

The caller (workbench) decides what a mismatch does to the page; this module only reports.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ocr.image.imaging import ink_gray, ink_mask
from ocr.image.page_qa import BLANK, NO_GRID
from ocr.layout.grid import (
    EXTRA_RULING_COST,
    MISSING_RULING_COST,
    WIDTH_RATIO_SIGMA,
    find_rulings,
    frame_lines,
    match_column_rulings,
    template_edges,
)
from ocr.page_warnings import PageWarning
from ocr.read.engines.base import Recognizer
from ocr.settings import GridSettings
from ocr.types import LedgerLayout, PageAnalysis, ProcessingStep

WARNING = "book_type_mismatch"


def mismatch_warning(suspected: str) -> PageWarning:
    """The page warning that holds a page looking like book type ``suspected``."""
    return PageWarning(WARNING, (suspected,))

# Another type must explain the rulings this much better (in the grid's cost units: one missed
# template edge costs 1.5, one unexplained ruling 2.5) before the declared type is doubted.
COLUMN_MARGIN = 4.0
# Title similarity (1 = the distinguishing words read exactly, accents ignored).
TITLE_MATCH = 0.75  # at least this: the title names that type
TITLE_MARGIN = 0.25  # ... and beats the declared type's similarity by this much
MAX_TITLE_LINES = 3  # text lines above the table that are read (the title is among the first)


@dataclass(frozen=True)
class BookTypeCandidate:
    """A book type the page could belong to: its key, printed title and columns."""

    key: str
    title: str
    layout: LedgerLayout


@dataclass(frozen=True)
class ColumnFit:
    key: str
    cost: float
    missing: int  # template edges without a ruling
    extra: int  # rulings no template edge explains


@dataclass
class BookTypeFinding:
    declared: str
    rulings: int = 0  # inner vertical rulings seen inside the table frame
    fits: list[ColumnFit] = field(default_factory=list)
    title_text: str | None = None  # what OCR read on the title line (None: not read)
    title_scores: dict[str, float] = field(default_factory=dict)
    by_columns: str | None = None  # another type the columns point to
    by_title: str | None = None  # the type the title names (may be the declared one)

    @property
    def suspected(self) -> str | None:
        """The type the page looks like when it is not the declared one; None: no doubt."""
        if self.by_title is not None:
            return None if self.by_title == self.declared else self.by_title
        return self.by_columns

    def summary(self) -> dict[str, Any]:
        """For the page's audit step (no pixels, no personal data: the title is printed text)."""
        return {
            "declared": self.declared,
            "inner_rulings": self.rulings,
            "column_costs": {f.key: round(f.cost, 2) for f in self.fits},
            "title_text": self.title_text,
            "title_scores": {k: round(v, 3) for k, v in self.title_scores.items()},
            "by_columns": self.by_columns,
            "by_title": self.by_title,
            "suspected": self.suspected,
        }


# --- columns ---------------------------------------------------------------------------------------

def _width_cost(found: float, hinted: float) -> float:
    """The grid matcher's price of one matched span (see ocr.layout.grid.match_column_rulings)."""
    ratio = abs(math.log(max(found, 1.0) / max(hinted, 1e-6))) / WIDTH_RATIO_SIGMA
    return ratio * ratio if ratio <= 1 else 2 * ratio - 1


def column_fit(inner: Sequence[float], left: float, right: float, layout: LedgerLayout) -> ColumnFit:
    """How well one template explains the rulings between the frame lines (lower is better)."""
    match = match_column_rulings(list(inner), left, right, layout)
    fractions = template_edges(0.0, 1.0, layout)
    n = len(fractions) - 1
    anchors = [0, *(k for k in range(1, n) if match.seen[k - 1]), n]
    span = right - left
    widths = sum(
        _width_cost(match.edges[b] - match.edges[a], (fractions[b] - fractions[a]) * span)
        for a, b in zip(anchors, anchors[1:], strict=False)
    )
    cost = widths + match.guessed * MISSING_RULING_COST + match.extra * EXTRA_RULING_COST
    return ColumnFit(layout.book_type, float(cost), match.guessed, match.extra)


def table_rulings(page: np.ndarray, settings: GridSettings = GridSettings()) -> tuple[float, float, list[float]] | None:
    """The table's left and right frame and the vertical rulings between them; None without a frame."""
    _, v_peaks = find_rulings(ink_gray(page), settings)
    if len(v_peaks) < 2:
        return None
    left, right = frame_lines(v_peaks)
    if right - left < 0.3 * page.shape[1]:
        return None  # two strokes close together are no ledger table
    return left, right, [c for c, _ in v_peaks if left + 4 < c < right - 4]


def columns_verdict(fits: Sequence[ColumnFit], declared: str) -> str | None:
    """Another type whose columns explain the rulings clearly better than the declared type's."""
    own = next((f for f in fits if f.key == declared), None)
    others = [f for f in fits if f.key != declared]
    if own is None or not others:
        return None
    best = min(others, key=lambda f: f.cost)
    return best.key if own.cost - best.cost >= COLUMN_MARGIN else None


# --- title -----------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Upper case, accents and punctuation dropped, single spaces: 'Sổ đăng ký' -> 'SO DANG KY'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare.upper()).split())


def _substring_distance(pattern: str, text: str) -> int:
    """Fewest edits turning `pattern` into some substring of `text` (semi-global alignment)."""
    previous = [0] * (len(text) + 1)  # the pattern may start anywhere in the text
    for i, p in enumerate(pattern, start=1):
        current = [i] + [0] * len(text)
        for j, t in enumerate(text, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (p != t))
        previous = current
    return min(previous)


def distinguishing_titles(candidates: Sequence[BookTypeCandidate]) -> dict[str, str]:
    """Each title without the words every title shares ('SỔ ĐĂNG KÝ'): 'KHAI SINH', 'KET HON', ..."""
    folded = {c.key: fold(c.title).split() for c in candidates}
    shared = 0
    words = list(folded.values())
    while words and all(len(w) > shared + 1 for w in words) and len({w[shared] for w in words}) == 1:
        shared += 1
    return {key: " ".join(w[shared:]) for key, w in folded.items()}


def title_scores(text: str, candidates: Sequence[BookTypeCandidate]) -> dict[str, float]:
    """Similarity (0..1) of the read text to each type's distinguishing title words."""
    read = fold(text)
    scores = {}
    for key, words in distinguishing_titles(candidates).items():
        if not words:
            continue
        scores[key] = max(0.0, 1.0 - _substring_distance(words, read) / len(words))
    return scores


def title_verdict(scores: dict[str, float], declared: str) -> str | None:
    """The type the title names, when one clearly does (the declared one included)."""
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k])
    runner_up = max((v for k, v in scores.items() if k != best), default=0.0)
    if scores[best] < TITLE_MATCH or scores[best] - runner_up < TITLE_MARGIN:
        return None
    if best != declared and scores.get(declared, 0.0) > scores[best] - TITLE_MARGIN:
        return None
    return best


def title_lines(page: np.ndarray, table_top: int, max_lines: int = MAX_TITLE_LINES) -> list[np.ndarray]:
    """Crops of the printed text lines above the table, each cut to its central run of words.

    The title is centred over the table; the unit's name and the year may share its line at the
    left and right margins, so only the run of words nearest the page's centre is kept.
    """
    top_band = page[: max(0, table_top - 2)]
    if top_band.shape[0] < 10:
        return []
    gray = ink_gray(top_band)
    mask = ink_mask(gray, 31, 15)
    height, width = mask.shape
    edge = max(4, width // 50)
    mask[:, :edge], mask[:, -edge:], mask[:edge] = 0, 0, 0  # paper edge shadows are no text
    rows = np.count_nonzero(mask, axis=1) > max(3, width // 400)
    bands = _runs(rows, min_length=max(6, height // 60))
    crops = []
    for y0, y1 in bands[:max_lines]:
        line = mask[y0:y1]
        line_height = y1 - y0
        joined = cv2.dilate(line, np.ones((1, max(3, int(1.5 * line_height))), np.uint8))
        runs = _runs(np.count_nonzero(joined, axis=0) > 0, min_length=2 * line_height)
        if not runs:
            continue
        x0, x1 = min(runs, key=lambda r: abs((r[0] + r[1]) / 2 - width / 2))
        pad = max(4, line_height // 4)
        crops.append(top_band[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad])
    return crops


def _runs(flags: np.ndarray, min_length: int) -> list[tuple[int, int]]:
    """[start, end) of every run of True at least `min_length` long."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(changes[::2], changes[1::2], strict=True) if b - a >= min_length]


def read_title(page: np.ndarray, table_top: int, recognizer: Recognizer,
               candidates: Sequence[BookTypeCandidate]) -> tuple[str | None, dict[str, float]]:
    """The title line's text (the best-matching line above the table) and its scores per type."""
    crops = title_lines(page, table_top)
    if not crops:
        return None, {}
    readings = recognizer.read_lines(crops)
    best_text, best_scores = None, {}
    for reading in readings:
        scores = title_scores(reading.text, candidates)
        if best_text is None or max(scores.values(), default=0.0) > max(best_scores.values(), default=0.0):
            best_text, best_scores = reading.text, scores
    return best_text, best_scores


# --- the page --------------------------------------------------------------------------------------

def _table_top(analysis: PageAnalysis) -> int:
    for step in reversed(analysis.steps):
        box = step.result.get("table_box") if step.name == "grid" else None
        if isinstance(box, list) and len(box) == 4:
            return int(box[1])
    return round(0.18 * analysis.deskewed.shape[0])  # no grid: the title is in the top of the page


def check_page(page: np.ndarray, table_top: int, declared: str, candidates: Sequence[BookTypeCandidate],
               recognizer: Recognizer | None = None) -> BookTypeFinding:
    """The evidence that a levelled page is (not) of the declared book type."""
    finding = BookTypeFinding(declared=declared)
    frame = table_rulings(page)
    if frame is not None:
        left, right, inner = frame
        finding.rulings = len(inner)
        finding.fits = [column_fit(inner, left, right, c.layout) for c in candidates]
        finding.by_columns = columns_verdict(finding.fits, declared)
    if recognizer is not None:
        finding.title_text, finding.title_scores = read_title(page, table_top, recognizer, candidates)
        finding.by_title = title_verdict(finding.title_scores, declared)
    return finding


def apply_book_type_check(analysis: PageAnalysis, declared: str, candidates: Sequence[BookTypeCandidate],
                          recognizer: Recognizer | None = None) -> BookTypeFinding | None:
    """Check an analysed page; a doubt becomes the warning ``book_type_mismatch:<type>``, the evidence
    an audit step. Blank pages and pages without a grid are not checked (nothing to compare)."""
    if not candidates or BLANK in analysis.warnings or NO_GRID in analysis.warnings:
        return None
    started = time.perf_counter()
    finding = check_page(analysis.deskewed, _table_top(analysis), declared, candidates, recognizer)
    analysis.steps.append(ProcessingStep("book_type", {"column_margin": COLUMN_MARGIN, "title_match": TITLE_MATCH,
                                                       "title_margin": TITLE_MARGIN},
                                         round(time.perf_counter() - started, 4), finding.summary()))
    if finding.suspected is not None:
        analysis.warnings.append(mismatch_warning(finding.suspected))
    return finding
