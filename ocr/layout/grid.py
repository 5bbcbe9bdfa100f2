"""Find the printed ledger grid on a levelled page: header band, template columns, data rows.

Rulings are found by morphology + projection on the ink mask, so faint, broken or partly
missing lines still vote. Missing horizontal rulings are filled in from the (uniform) printed
row pitch; missing vertical rulings from the template's relative column widths. Without any
rulings the grid comes from the printed header labels and the handwriting lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ocr.image.imaging import ink_gray, ink_mask, resize_to_width
from ocr.image.stamps import Stamp, find_stamps
from ocr.settings import GridSettings
from ocr.types import Box, LedgerLayout


@dataclass
class InkMasks:
    gray: np.ndarray  # ink_gray of the page (coloured ink dark), shared with the cell cutter
    ink: np.ndarray  # uint8 0/255: all ink (text, handwriting, rulings)
    rulings: np.ndarray  # uint8 0/255: the detected ruling strokes only
    text: np.ndarray  # ink minus rulings and stamps
    stamps: np.ndarray  # uint8 0/255: ink of round red stamps (ocr.image.stamps): never writing


@dataclass(frozen=True)
class ColumnMatch:
    """Column edges in template order and how they were found."""

    edges: list[int]  # len(layout.columns) + 1 x positions, frame included
    seen: list[bool]  # per inner edge: a ruling was found there (else the width hints placed it)
    extra: int  # inner rulings that matched no template edge (pen strokes, or a printed column more)
    worst_ratio: float  # largest factor between a found column's width and its hint (>= 1)
    cost: float = 0.0  # the alignment's price (width ratios, missing and extra rulings, lines left outside)
    outside: int = 0  # lines beyond the chosen frame (a paper edge, a note's rule) left out of the table

    @property
    def guessed(self) -> int:
        return sum(not s for s in self.seen)


@dataclass
class LedgerGrid:
    table: Box  # outer frame of the table (header + data rows)
    header: Box | None
    col_edges: list[int]  # len(layout.columns) + 1 x positions, template order
    row_edges: list[int]  # y of every data-row boundary below the header (rows + 1)
    filled_rows: list[int]  # indices into the row bands that carry ink
    method: str  # "rulings", "partial_rulings" or "text_lines"
    detected_h: int  # horizontal rulings actually seen
    detected_v: int  # vertical rulings actually seen
    masks: InkMasks
    columns: ColumnMatch | None = None  # how the column edges were found (None: from the labels alone)
    stamps: list[Stamp] = field(default_factory=list)  # round stamps whose ink was left out of the text

    def row_box(self, band: int) -> Box:
        y0, y1 = self.row_edges[band], self.row_edges[band + 1]
        return Box(self.col_edges[0], y0, self.col_edges[-1] - self.col_edges[0], y1 - y0)

    def cell_box(self, band: int, column: int) -> Box:
        y0, y1 = self.row_edges[band], self.row_edges[band + 1]
        x0, x1 = self.col_edges[column], self.col_edges[column + 1]
        return Box(x0, y0, x1 - x0, y1 - y0)


class GridNotFoundError(ValueError):
    """No ledger table could be located on the page."""


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True values."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    return list(zip(changes[::2].tolist(), changes[1::2].tolist(), strict=True))


def line_evidence(gray: np.ndarray, ridge: int, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel evidence of thin horizontal and vertical lines (float32, 0..cap levels).

    A pixel's evidence is how much darker it is than the darker of its two neighbours ``ridge``
    px across the line direction, capped at ``cap`` levels: a thin ruling gets its full
    contrast, the inside of a thick stroke gets nothing, and heavy handwriting cannot outvote a
    faint ruling once the evidence is averaged along a whole row or column.
    """
    values = gray.astype(np.float32)
    paper = cv2.dilate(values, np.ones((1, 9), np.uint8))
    paper = cv2.dilate(paper, np.ones((9, 1), np.uint8))  # local paper level (max filter)
    darkness = paper - values
    horizontal = np.zeros_like(darkness)
    sides = np.maximum(darkness[: -2 * ridge], darkness[2 * ridge :])
    horizontal[ridge:-ridge] = darkness[ridge:-ridge] - sides
    vertical = np.zeros_like(darkness)
    sides = np.maximum(darkness[:, : -2 * ridge], darkness[:, 2 * ridge :])
    vertical[:, ridge:-ridge] = darkness[:, ridge:-ridge] - sides
    np.clip(horizontal, 0, cap, out=horizontal)
    np.clip(vertical, 0, cap, out=vertical)
    return horizontal, vertical


def profile_peaks(profile: np.ndarray, window: int, min_sigmas: float, min_strength: float,
                  edge: int) -> list[tuple[float, float]]:
    """Narrow peaks (position, prominence) of a 1-D evidence profile, away from the ends.

    Prominence is measured against a grey opening (the broad background that text produces), so
    only narrow, line-like peaks remain; it must pass both the profile's own noise level and an
    absolute strength (mean grey levels of line evidence), which text alone does not reach.
    """
    column = profile.astype(np.float32).reshape(-1, 1)
    kernel = np.ones((2 * window + 1, 1), np.uint8)
    prominence = (column - cv2.morphologyEx(column, cv2.MORPH_OPEN, kernel)).ravel()
    sigma = float(np.median(np.abs(prominence - np.median(prominence)))) * 1.4826 + 1e-6
    threshold = max(min_sigmas * sigma, min_strength)
    peaks: list[tuple[float, float]] = []
    for start, end in _runs(prominence > threshold):
        if start < edge or end > len(profile) - edge:
            continue
        weights = prominence[start:end] - threshold
        centre = float(np.average(np.arange(start, end), weights=weights + 1e-6))
        peaks.append((centre, float(prominence[start:end].max())))
    if peaks:
        # Text can leave weak narrow peaks too; real rulings on one page are of similar strength.
        strong = float(np.percentile([p for _, p in peaks], 90))
        peaks = [(c, p) for c, p in peaks if p >= 0.2 * strong]
    return peaks


def _fit_lattice(positions: list[float], rough: float) -> tuple[float, float]:
    """Pitch and phase of a regular lattice (centre = phase + k * pitch) through the positions.

    Each position gets its lattice index from the rough pitch; a least-squares line through
    (index, position) then gives pitch and phase, refitted once without the worst outliers
    (a number pushed aside by a neighbour's overflowing handwriting).
    """
    values = np.array(sorted(positions), dtype=np.float64)
    keep = np.ones(len(values), dtype=bool)
    pitch, phase = rough, float(values[0])
    for _ in range(2):
        index = np.round((values - phase) / pitch)
        if len(np.unique(index[keep])) < 2:
            break
        pitch, phase = (float(v) for v in np.polyfit(index[keep], values[keep], 1))
        residual = np.abs(values - (phase + index * pitch))
        keep = residual <= max(0.12 * pitch, float(np.median(residual)) * 3)
    return pitch, phase


def _snap(predicted: float, detected: list[float], tolerance: float) -> float:
    if detected:
        nearest = min(detected, key=lambda d: abs(d - predicted))
        if abs(nearest - predicted) <= tolerance:
            return nearest
    return predicted


def template_edges(left: float, right: float, layout: LedgerLayout) -> np.ndarray:
    """All column edges (frame included) the template's width hints put between left and right."""
    widths = np.array([c.width for c in layout.columns], dtype=np.float64)
    fractions = np.concatenate([[0.0], np.cumsum(widths) / widths.sum()])
    return left + (right - left) * fractions


# Printed column proportions differ between print runs and provinces (about +-35% a column),
# so rulings are matched on the ratio of found to hinted widths, not on absolute positions: a
# wider column early on must not push every later ruling out of reach.
WIDTH_RATIO_SIGMA = 0.4  # log-ratio of a column's found/hinted width that costs 1
MISSING_RULING_COST = 1.5  # a template edge no ruling was found for
EXTRA_RULING_COST = 2.5  # a ruling that is no template edge (a visible ruling is rarely a pen stroke)


def match_column_rulings(detected: list[float], left: float, right: float, layout: LedgerLayout) -> ColumnMatch:
    """Detected inner rulings matched to the template's columns; hints only fill what is missing.

    A monotone alignment (dynamic programming) between template edges and found rulings. Two
    consecutive matched edges cost the squared log-ratio of the found width to the hinted width
    of the columns between them (scaled to the table), so every clearly visible ruling is used
    where it is, whatever the proportions; a template edge without a ruling costs
    MISSING_RULING_COST and is placed between its matched neighbours in the hinted proportions;
    a ruling matching no edge costs EXTRA_RULING_COST and is ignored.
    """
    fractions = template_edges(0.0, 1.0, layout)
    n = len(fractions) - 1
    inner = [d for d in sorted(detected) if left + 4 < d < right - 4]
    points = [left, *inner, right]
    m = len(points) - 1
    span = right - left
    # best[i][j]: least cost with template edge i on found point j (both matched).
    best = np.full((n + 1, m + 1), np.inf)
    back: dict[tuple[int, int], tuple[int, int]] = {}
    best[0, 0] = 0.0
    xs = np.array(points, dtype=np.float64)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if (i == n) != (j == m):
                continue  # the frame matches the frame
            found = np.maximum(xs[j] - xs[:j], 1.0)  # every earlier point pj at once
            skipped = (j - np.arange(j) - 1) * EXTRA_RULING_COST
            for pi in range(i):
                hinted = (fractions[i] - fractions[pi]) * span
                ratio = np.abs(np.log(found / hinted)) / WIDTH_RATIO_SIGMA
                # Squared near the hint, linear far from it: a column printed narrow (x0.4)
                # must not cost more than ignoring its visible rulings.
                width_cost = np.where(ratio <= 1, ratio * ratio, 2 * ratio - 1)
                costs = best[pi, :j] + width_cost + (i - pi - 1) * MISSING_RULING_COST + skipped
                pj = int(np.argmin(costs))  # the first of equal costs, as a scan in order would keep
                if costs[pj] < best[i, j]:
                    best[i, j] = costs[pj]
                    back[(i, j)] = (pi, pj)
    matched = {n: m}
    i, j = n, m
    while (i, j) != (0, 0):
        i, j = back[(i, j)]
        matched[i] = j
    edges = [0.0] * (n + 1)
    anchors = sorted(matched)
    for a, b in zip(anchors, anchors[1:], strict=False):
        x_a, x_b = points[matched[a]], points[matched[b]]
        for k in range(a, b + 1):
            share = (fractions[k] - fractions[a]) / (fractions[b] - fractions[a])
            edges[k] = x_a + (x_b - x_a) * share
    return ColumnMatch(
        edges=[round(e) for e in edges],
        seen=[k in matched for k in range(1, n)],
        extra=len(inner) - (len(matched) - 2),
        worst_ratio=_worst_width_ratio([edges[k] for k in anchors], fractions[anchors]),
        cost=float(best[n, m]),
    )


# The outermost strong vertical lines are not always the table's frame: the paper's edge over a
# darker bed, or a rule beside a margin note, can be as dark as a ruling. The frame may therefore
# sit up to this many lines inside them on each side, within this share of the table's width
# (the narrowest printed column, the registration number's, is about 4% of a table).
FRAME_CANDIDATES_PER_SIDE = 2
FRAME_CANDIDATE_REACH = 0.12
# Lines closer than this share of the table are one ruling (a doubled print, a scan's halo
# beside a dark ruling); printed columns are at least 3.5% of a table wide.
TWIN_RULING_DISTANCE = 0.01
# A line left outside the table is cheaper than a ruling ignored inside it (EXTRA_RULING_COST):
# margins hold paper edges, folds and notes' rules; inside, a visible ruling is a column's edge.
# Moving the frame onto a real inner ruling still costs far more (a column lost: a missing edge
# and every width off).
OUTSIDE_LINE_COST = 1.0


def distinct_rulings(peaks: Sequence[tuple[float, float]], left: float, right: float) -> list[float]:
    """Positions of the (position, strength) peaks between left and right, one per ruling: of
    lines closer than TWIN_RULING_DISTANCE of the table, the strongest."""
    gap = TWIN_RULING_DISTANCE * (right - left)
    kept: list[tuple[float, float]] = []
    for centre, strength in sorted(p for p in peaks if left - 2 <= p[0] <= right + 2):
        if kept and centre - kept[-1][0] < gap:
            if strength > kept[-1][1]:
                kept[-1] = (centre, strength)
            continue
        kept.append((centre, strength))
    return [c for c, _ in kept]


def match_columns_in_frame(detected: list[float], left: float, right: float, layout: LedgerLayout,
                           in_table: Callable[[float], bool] | None = None) -> ColumnMatch:
    """match_column_rulings, with the outer frame itself open to doubt.

    Every visible ruling must be used where it is: when the outermost lines are something else
    (paper edge, a note's rule), forcing the template's frame onto them leaves a real ruling
    inside unmatched and shifts a column's cells onto its neighbour's writing. So a frame one or
    two lines further in competes, each line it leaves outside priced OUTSIDE_LINE_COST; the
    cheapest alignment wins, the strong frame on ties. ``in_table(x)``: the line at x is joined
    to the table by its horizontal rulings (rulings_reach), so it is the table's and never left
    outside, however far the printed widths are from the hints.
    """
    best = match_column_rulings(detected, left, right, layout)
    if best.cost <= OUTSIDE_LINE_COST:
        return best  # no frame further in can cost less: it leaves at least one line outside
    inner = sorted(d for d in detected if left + 4 < d < right - 4)
    reach = FRAME_CANDIDATE_REACH * (right - left)
    lefts = [left, *[d for d in inner if d < left + reach][:FRAME_CANDIDATES_PER_SIDE]]
    rights = [right, *[d for d in reversed(inner) if d > right - reach][:FRAME_CANDIDATES_PER_SIDE]]
    table_lines = in_table or (lambda _: False)
    # How many lines each side may leave outside: up to the first that belongs to the table.
    left_limit = next((k for k, x in enumerate(lefts) if table_lines(x)), len(lefts) - 1)
    right_limit = next((k for k, x in enumerate(rights) if table_lines(x)), len(rights) - 1)
    for dropped_left, frame_left in enumerate(lefts[: left_limit + 1]):
        for dropped_right, frame_right in enumerate(rights[: right_limit + 1]):
            outside = dropped_left + dropped_right
            if outside == 0:
                continue  # the strong frame, matched above
            match = match_column_rulings(detected, frame_left, frame_right, layout)
            cost = match.cost + outside * OUTSIDE_LINE_COST
            if cost < best.cost:
                best = replace(match, cost=cost, outside=outside)
    return best


def rulings_reach(ink: np.ndarray, h_lines: Sequence[float], x: float, v_lines: Sequence[float],
                  half_width: int) -> bool:
    """The table's horizontal rulings run out to the vertical line at x: it is part of the table.

    A paper's edge, a fold or the rule beside a margin note stands apart, with bare paper between
    it and the frame; a frame line is joined to the next vertical line by every row's ruling.
    Judged on the stretch between x and its nearest vertical neighbour, along the horizontal
    rulings: joined when most of them are inked along MIN_RULING_COVERAGE of that stretch.
    """
    others = [v for v in v_lines if abs(v - x) > 2 * half_width + 2]
    if not others or not h_lines:
        return False
    neighbour = min(others, key=lambda v: abs(v - x))
    a, b = sorted((x, neighbour))
    x0, x1 = round(a) + half_width + 1, round(b) - half_width
    if x1 - x0 < 4:
        return False
    covered = [float(ink[max(0, round(y) - half_width) : round(y) + half_width + 1, x0:x1].any(axis=0).mean())
               for y in h_lines]
    return float(np.median(covered)) >= MIN_RULING_COVERAGE


def _worst_width_ratio(edges: Sequence[float], fractions: np.ndarray) -> float:
    """Largest factor between a found column span and its hinted width (>= 1)."""
    span = edges[-1] - edges[0]
    ratios = [
        max(w, h) / max(min(w, h), 1e-6)
        for w, h in ((b - a, (fb - fa) * span) for a, b, fa, fb in zip(edges, edges[1:], fractions, fractions[1:],
                                                                       strict=False))
    ]
    return float(max(ratios))


def match_columns(detected: list[float], left: float, right: float, layout: LedgerLayout) -> list[int]:
    """Column edges in template order (see match_column_rulings)."""
    return match_column_rulings(detected, left, right, layout).edges


def _text_bands(profile: np.ndarray, min_gap: int, min_value: float) -> list[tuple[int, int]]:
    """Runs of inked rows, joining runs separated by less than min_gap rows."""
    bands: list[list[int]] = []
    for start, end in _runs(profile > min_value):
        if bands and start - bands[-1][1] < min_gap:
            bands[-1][1] = end
        else:
            bands.append([start, end])
    return [(a, b) for a, b in bands]


def _fit_columns_to_labels(text: np.ndarray, top: int, bottom: int, layout: LedgerLayout) -> tuple[float, float]:
    """Table left/right that best explain the printed header labels (each centred in its column).

    Searches the outer edges around the labels' ink extent for the pair whose template column
    boundaries cross the least label ink and whose columns hold their labels most symmetrically.
    """
    profile = (text[top:bottom] > 0).sum(axis=0).astype(np.float64)
    profile[profile < 3] = 0  # lone noise pixels are not label ink
    # Narrow isolated slivers (a paper edge's shadow, a ruling stub) are not labels either.
    for a, b in _text_bands(profile, max(6, len(profile) // 100), 0):
        if b - a < max(8, len(profile) // 200):
            profile[a:b] = 0
    inked = np.flatnonzero(profile)
    if len(inked) == 0:
        raise GridNotFoundError("The printed column labels of the ledger were not found.")
    width = len(profile)
    ink_left, ink_right = float(inked[0]), float(inked[-1])
    cumulative = np.concatenate([[0.0], np.cumsum(profile)])
    total = cumulative[-1]

    def ink_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.clip(np.round(a).astype(int), 0, width)
        b = np.clip(np.round(b).astype(int), 0, width)
        return cumulative[b] - cumulative[a]

    widths = np.array([c.width for c in layout.columns], dtype=np.float64)
    fractions = np.concatenate([[0.0], np.cumsum(widths) / widths.sum()])
    slack = 0.06 * width
    step = max(1.0, width / 1200)
    lefts = np.arange(ink_left - slack, ink_left + 1, step)
    rights = np.arange(ink_right, ink_right + slack + 1, step)
    grid_left, grid_right = np.meshgrid(lefts, rights, indexing="ij")
    edges = grid_left[..., None] + (grid_right - grid_left)[..., None] * fractions  # (L, R, n+1)
    centres = (edges[..., :-1] + edges[..., 1:]) / 2
    asymmetry = np.abs(ink_between(edges[..., :-1], centres) - ink_between(centres, edges[..., 1:])).sum(axis=-1)
    reach = max(3.0, width / 400)
    crossing = ink_between(edges[..., 1:-1] - reach, edges[..., 1:-1] + reach).sum(axis=-1)
    cost = (asymmetry + 4 * crossing) / total
    i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
    return float(lefts[i]), float(rights[j])


def find_rulings(gray: np.ndarray, settings: GridSettings) -> tuple[list[tuple[float, float]], ...]:
    """Horizontal and vertical ruling positions (full-resolution px) with their strengths."""
    height, width = gray.shape
    # Half resolution is enough for ruling positions and four times cheaper.
    small, scale = resize_to_width(gray, max(600, width // 2))
    horizontal, vertical = line_evidence(small, 3, settings.line_evidence_cap)
    small_h, small_w = small.shape
    # Stay off the outermost 1%: the paper edge and its shadow live there (and are dropped
    # further in by _drop_paper_edges).
    edge_y, edge_x = max(3, round(small_h * 0.01)), max(3, round(small_w * 0.01))
    window = max(6, small_w // 120)
    h_limits = (settings.ruling_sigmas, settings.ruling_min_strength, edge_y)
    v_limits = (settings.ruling_sigmas, settings.ruling_min_strength, edge_x)
    h_peaks = _drop_paper_edges(
        small, profile_peaks(horizontal[:, edge_x:-edge_x].mean(axis=1), window, *h_limits), 0
    )
    v_peaks = _drop_paper_edges(
        small, profile_peaks(vertical[edge_y:-edge_y, :].mean(axis=0), window, *v_limits), 1
    )
    # Second pass restricted to the table frame (outermost strong rulings): better contrast.
    if len(h_peaks) >= 2 and len(v_peaks) >= 2:
        top, bottom = frame_lines(h_peaks)
        left, right = frame_lines(v_peaks)
        h_peaks = profile_peaks(horizontal[:, round(left) : round(right) + 1].mean(axis=1), window, *h_limits)
        v_peaks = profile_peaks(vertical[round(top) : round(bottom) + 1, :].mean(axis=0), window, *v_limits)
        h_peaks = _drop_paper_edges(small, h_peaks, 0)
        v_peaks = _drop_paper_edges(small, v_peaks, 1)
    return (
        [(c / scale, p) for c, p in h_peaks],
        [(c / scale, p) for c, p in v_peaks],
    )


def _drop_paper_edges(gray: np.ndarray, peaks: list[tuple[float, float]], axis: int,
                      max_step: float = 5.0) -> list[tuple[float, float]]:
    """Remove "lines" that are the paper's edge (its shadow against a lid or a white fill).

    A ruling has the same paper on both sides; a paper edge has the brighter lid or the white
    fill on one side, brighter than (almost) any paper on the page; uneven light or a stain
    beside a ruling only shifts both sides a little, or makes one darker.
    """
    near, far = 3, 7
    lines = gray if axis == 0 else gray.T  # rows are the line direction's normal
    # Brighter than almost all of the paper, even its best-lit part under uneven light.
    brightest_paper = float(np.percentile(gray[::4, ::4], 90))
    kept = []
    for centre, strength in peaks:
        c = round(centre)
        # Every 4th pixel along the line is plenty for a median and four times cheaper.
        before = lines[max(0, c - far) : max(0, c - near), ::4]
        after = lines[c + near + 1 : c + far + 1, ::4]
        if before.size == 0 or after.size == 0:
            continue  # at the image border: an edge, not a ruling
        sides = sorted((float(np.median(before)), float(np.median(after))))
        if sides[1] - sides[0] > max_step and sides[1] > brightest_paper:
            continue
        kept.append((centre, strength))
    return kept


def frame_lines(peaks: list[tuple[float, float]]) -> tuple[float, float]:
    """First and last peak that is at least 40% as strong as the strongest (the printed frame)."""
    strongest = max(p for _, p in peaks)
    frame = [c for c, p in peaks if p >= 0.4 * strongest]
    return frame[0], frame[-1]


def _nearest(expected: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The sorted position nearest to each expected value (any array shape)."""
    index = np.clip(np.searchsorted(positions, expected), 1, len(positions) - 1)
    before, after = positions[index - 1], positions[index]
    return np.where(np.abs(expected - before) <= np.abs(expected - after), before, after)


def column_frame(v_peaks: list[tuple[float, float]], layout: LedgerLayout) -> tuple[float, float]:
    """Left and right of the table, checked against the template's column pattern.

    The strong frame (frame_lines) is right unless an outer ruling is fainter than 40% of the
    strongest, or was lost (taken for the paper's edge): then the table starts a column or more
    in and every field lands columns off. So the template is laid over ALL the vertical rulings
    seen: every pair of rulings, taken as any two template edges at least half the table apart,
    fixes a frame; frames that contain the strong one are scored by how many template edges
    meet a ruling. A wrong frame rescales or shifts the template and meets few; one replaces
    the strong frame only when it meets at least two edges more (one could be a chance hit).
    Its outer edges are the rulings met there, else the template fitted to the edges met.
    """
    left, right = frame_lines(v_peaks)
    positions = np.array(sorted(c for c, _ in v_peaks), dtype=np.float64)
    fractions = template_edges(0.0, 1.0, layout)
    # A strong frame that already holds a ruling for every template edge lost none: printed
    # proportions differ from the hints (+-35% a column), and the hints alone must not move a
    # frame outwards to where no ruling is.
    if np.count_nonzero((positions >= left - 2) & (positions <= right + 2)) >= len(fractions):
        return left, right
    a, b = np.triu_indices(len(positions), 1)
    i, k = np.triu_indices(len(fractions), 1)
    long = fractions[k] - fractions[i] >= 0.5  # short baselines extrapolate their errors
    i, k = i[long], k[long]
    widths = (positions[b] - positions[a])[:, None] / (fractions[k] - fractions[i])[None, :]
    lefts = (positions[a][:, None] - fractions[i][None, :] * widths).ravel()
    # The strong frame is the last candidate.
    lefts, widths = np.append(lefts, left), np.append(widths.ravel(), right - left)
    # Tighter than match_columns' tolerance: here a wrong frame must not borrow chance matches.
    tolerance = 0.3 * float(np.diff(fractions).min()) * widths
    contains_strong = (lefts <= left + tolerance) & (lefts + widths >= right - tolerance)
    expected = lefts[:, None] + widths[:, None] * fractions[None, :]
    nearest = _nearest(expected, positions)
    met = np.abs(nearest - expected) <= tolerance[:, None]
    score = np.where(contains_strong, met.sum(axis=1), -1)
    best = int(np.argmax(score))
    if score[best] < score[-1] + 2:
        return left, right
    hits = met[best]
    width, fitted_left = np.polyfit(fractions[hits], nearest[best][hits], 1)
    new_left = nearest[best][0] if hits[0] else fitted_left
    new_right = nearest[best][-1] if hits[-1] else fitted_left + width
    return float(new_left), float(new_right)


# A line of printed labels, every column's on one baseline, looks like a weak horizontal ruling
# (a tall header holding labels on three lines gave a peak of 0.27 the strongest ruling's, its
# ink covering 56% of the table width). A ruling, even a worn one, runs along most of the table.
WEAK_RULING_SHARE = 0.4
MIN_RULING_COVERAGE = 0.7


def _drop_label_baselines(ink: np.ndarray, h_peaks: list[tuple[float, float]], v_peaks: list[tuple[float, float]],
                          half_width: int) -> list[tuple[float, float]]:
    """Horizontal peaks without the ones that are text: weak among strong rulings, and inked along
    less than MIN_RULING_COVERAGE of the table's width."""
    if len(h_peaks) < 3:
        return h_peaks
    strong = float(np.percentile([p for _, p in h_peaks], 90))
    x0 = round(v_peaks[0][0]) if len(v_peaks) >= 2 else 0
    x1 = round(v_peaks[-1][0]) if len(v_peaks) >= 2 else ink.shape[1]
    kept = []
    for centre, strength in h_peaks:
        y = round(centre)
        covered = float(ink[max(0, y - half_width) : y + half_width + 1, x0:x1].any(axis=0).mean())
        if strength < WEAK_RULING_SHARE * strong and covered < MIN_RULING_COVERAGE:
            continue
        kept.append((centre, strength))
    return kept


def _ruling_half_width(page_width: int) -> int:
    return max(3, round(page_width / 450))  # blurred rulings spread over ~5 px


def _ruling_pixels(ink: np.ndarray, h_lines: Sequence[float], v_lines: Sequence[float], table: Box,
                   half_width: int) -> np.ndarray:
    """Ink pixels lying on the detected rulings (within the table), to be removed from the text."""
    bands = np.zeros_like(ink)
    x0, y0, x1, y1 = table.x, table.y, table.x + table.w, table.y + table.h
    for y in h_lines:
        top = max(0, round(y) - half_width)
        bands[top : round(y) + half_width + 1, max(0, x0 - half_width) : x1 + half_width] = 255
    for x in v_lines:
        left = max(0, round(x) - half_width)
        bands[max(0, y0 - half_width) : y1 + half_width, left : round(x) + half_width + 1] = 255
    return cv2.bitwise_and(bands, ink)


def detect_grid(page: np.ndarray, layout: LedgerLayout, settings: GridSettings = GridSettings()) -> LedgerGrid:
    """Header band, template-matched column edges and data-row bands of a levelled ledger page."""
    height, width = page.shape[:2]
    gray = ink_gray(page)
    ink = ink_mask(gray, settings.ink_block, settings.ink_offset)
    h_peaks, v_peaks = find_rulings(gray, settings)
    h_peaks = _drop_label_baselines(ink, h_peaks, v_peaks, _ruling_half_width(width))
    h_found = [c for c, _ in h_peaks]
    v_found = [c for c, _ in v_peaks]
    half_width = _ruling_half_width(width)
    if len(h_peaks) >= 3 and len(v_peaks) >= 2:
        top, bottom = frame_lines(h_peaks)
        left, right = column_frame(v_peaks, layout)
        left, right = max(0.0, left), min(width - 1.0, right)  # a frame fitted past the page edge
        table = Box(round(left), round(top), round(right - left), round(bottom - top))
        h_in = [y for y in h_found if top - 2 <= y <= bottom + 2]
        v_in = [x for x in v_found if left - 2 <= x <= right + 2]
        rulings = _ruling_pixels(ink, h_in, v_in, table, half_width)
        masks, stamps = _masks_without_stamps(page, gray, ink, rulings)
        grid = _grid_from_rulings(h_in, v_in, left, right, layout, settings, masks,
                                distinct_rulings(v_peaks, left, right))
        return replace(grid, stamps=stamps)
    # Too few rulings to trust any of them (text lines can mimic a few): keep all the ink, but
    # drop the page-edge shadow, which would otherwise read as a text line.
    shadow = np.zeros_like(ink)
    edge = max(4, round(0.02 * width))
    shadow[:edge], shadow[-edge:], shadow[:, :edge], shadow[:, -edge:] = 255, 255, 255, 255
    masks, stamps = _masks_without_stamps(page, gray, ink, np.zeros_like(ink), cv2.bitwise_and(ink, shadow))
    return replace(_grid_from_text(layout, settings, masks, h_found, v_found), stamps=stamps)


def _masks_without_stamps(page: np.ndarray, gray: np.ndarray, ink: np.ndarray, rulings: np.ndarray,
                          not_text: np.ndarray | None = None) -> tuple[InkMasks, list[Stamp]]:
    """The page's masks, its text without the rulings, the stamps' ink and ``not_text``.

    A stamp's letters and rings look like writing: left in the text, a stamp over an empty row
    made that row a record."""
    text = cv2.subtract(ink, rulings)
    if not_text is not None:
        text = cv2.subtract(text, not_text)
    stamps = find_stamps(page, text)
    masks = InkMasks(gray=gray, ink=ink, rulings=rulings, text=cv2.subtract(text, stamps.ink), stamps=stamps.ink)
    return masks, stamps.found


def grid_from_lines(page: np.ndarray, col_edges: Sequence[int], row_edges: Sequence[int],
                    settings: GridSettings = GridSettings()) -> LedgerGrid:
    """The grid a person drew: the given column edges (frame included) and row boundaries (the
    header's bottom first), with the same ink masks detect_grid makes, so the cell cutter sees the
    page exactly as at ingest. Ink on the given lines is removed as ruling, as detect_grid removes
    it along the edges it settles on; nothing is detected or moved."""
    cols, rows = [int(x) for x in col_edges], [int(y) for y in row_edges]
    if len(cols) < 2 or len(rows) < 2:
        raise GridNotFoundError("A grid needs at least two column edges and two row boundaries.")
    gray = ink_gray(page)
    ink = ink_mask(gray, settings.ink_block, settings.ink_offset)
    table = Box(cols[0], rows[0], cols[-1] - cols[0], rows[-1] - rows[0])
    rulings = _ruling_pixels(ink, rows, cols, table, _ruling_half_width(ink.shape[1]))
    masks, stamps = _masks_without_stamps(page, gray, ink, rulings)
    filled = _filled_bands(masks.text, rows, cols, settings)
    return LedgerGrid(table, None, cols, rows, filled, "manual", 0, 0, masks, stamps=stamps)


def _label_rows(text: np.ndarray, top: float, left: float, right: float, pitch: float,
                h_found: Sequence[float] = ()) -> tuple[float, float]:
    """First and last row of the printed column labels just below the table top.

    The labels are the first run of inked rows under the top frame; a gap of a tenth of a row
    pitch ends them (the handwriting of the first row starts further down), and so does the
    first horizontal ruling below their first line. A label wrapped onto two or three lines can
    leave larger gaps between its lines: the run bridges gaps up to a third of a pitch when the
    ruling that ends it has every row ruling below it (the header's own ruling, not a row's
    whose header ruling was lost: then the first row's writing would count as labels).
    """
    y0 = round(top) + 3
    band = text[y0 : round(top + 4 * pitch), round(left) : round(right)]
    profile = (band > 0).sum(axis=1)

    def first_run(gap: float) -> tuple[int, int, float | None]:
        """The first run of inked rows (page y) and the first ruling crossing it, if any."""
        a, b = _text_bands(profile, max(3, round(gap)), 0.01 * band.shape[1])[0]
        crossing = [y for y in h_found if y0 + a + 2 < y < y0 + b]
        return y0 + a, y0 + b, min(crossing) if crossing else None

    if not _text_bands(profile, max(3, round(0.1 * pitch)), 0.01 * band.shape[1]):
        return top, top
    start, end, closing = first_run(0.1 * pitch)
    if closing is None:
        _, _, closing = first_run(0.33 * pitch)
        if closing is None or not _rows_complete_below(h_found, closing, pitch):
            return float(start), float(end)
    return float(start), float(closing)


def _rows_complete_below(h_found: Sequence[float], y: float, pitch: float) -> bool:
    """A ruling seen at every row pitch from ``y`` down to the bottom frame."""
    below = sorted(h for h in h_found if h >= y - 2)
    gaps = np.diff(below)
    return len(gaps) > 0 and bool(np.all(gaps < 1.4 * pitch))


def header_bottom(h_found: Sequence[float], top: float, labels: tuple[float, float], pitch: float) -> float | None:
    """The ruling that closes the printed header: the first ruling at or below the labels.

    Found from the labels, not from the row pitch, so a header shorter (or much taller) than a
    registration row is still one band. The labels are printed centred in the header, so its
    closing ruling lies about as far below them as the top frame lies above; one further down
    than half a row past that is a data row's (the header's own ruling was not seen). A ruling
    band right under it much shorter than a row (a printed row of column numbers "(1) (2)
    (3)...") belongs to the header too. None when no ruling closes the labels.
    """
    label_top, label_bottom = labels
    expected = label_bottom + max(0.0, label_top - top)
    below = sorted(y for y in h_found if y >= label_bottom - 0.05 * pitch and y > top + 4)
    if not below or below[0] > expected + 0.5 * pitch:
        return None
    bottom = below[0]
    for y in below[1:]:
        if y - bottom < 0.6 * pitch:
            bottom = y
        else:
            break
    return bottom


def _row_pitch(h_found: list[float], min_pitch: float, hint: float | None = None) -> float:
    """Uniform data-row pitch from the gaps between the rulings below the header.

    Faint books lose rulings, so a gap may span several rows: the pitch is the largest value
    of which (nearly) all gaps are whole multiples. ``hint`` (the spacing of the registration
    numbers) settles the choice when the rulings alone are ambiguous (every other one missing).
    """
    gaps = np.diff(h_found[1:]) if len(h_found) > 2 else np.diff(h_found)
    gaps = gaps[gaps >= min_pitch * 0.8]
    if len(gaps) == 0:
        return hint or float(np.diff(h_found).min())

    def explained(pitch: float) -> float:
        ratio = gaps / pitch
        fits = (np.round(ratio) >= 1) & (np.abs(ratio - np.round(ratio)) < 0.12)
        return float(gaps[fits].sum() / gaps.sum())

    def refined(pitch: float) -> float:
        counts = np.round(gaps / pitch)
        fits = (counts >= 1) & (np.abs(gaps / pitch - counts) < 0.12)
        return float(gaps[fits].sum() / counts[fits].sum()) if fits.any() else pitch

    candidates = sorted({g / k for g in gaps for k in range(1, 7) if g / k >= min_pitch}, reverse=True)
    good = [p for p in candidates if explained(p) >= 0.85]
    if hint is not None:
        near_hint = [p for p in good if abs(p - hint) < 0.15 * hint]
        if near_hint:
            return refined(min(near_hint, key=lambda p: abs(p - hint)))
        if not good:
            return hint
    return refined(good[0]) if good else refined(float(np.median(gaps)))


def _grid_from_rulings(h_found: list[float], v_found: list[float], left: float, right: float,
                       layout: LedgerLayout, settings: GridSettings, masks: InkMasks,
                       v_distinct: list[float]) -> LedgerGrid:
    top, bottom = h_found[0], h_found[-1]
    half_width = _ruling_half_width(masks.ink.shape[1])
    columns = match_columns_in_frame(v_distinct, left, right, layout,
                                     lambda x: rulings_reach(masks.ink, h_found, x, v_distinct, half_width))
    col_edges = columns.edges
    left, right = float(col_edges[0]), float(col_edges[-1])  # the frame may have moved in
    # With many faint rulings missing, the ruling gaps may all be two or three rows long; the
    # registration numbers (one line per record in the first column) hint at the true pitch.
    numbers = _first_column_lines(masks.text, col_edges, round(top) + 3, round(bottom))
    hint = float(np.median(np.diff(numbers))) if len(numbers) >= 3 else None
    pitch = _row_pitch(h_found, min_pitch=0.025 * masks.text.shape[0], hint=hint)
    if len(h_found) > 3 and h_found[-1] - h_found[-2] < 0.7 * pitch:
        # Printed rows are all one pitch tall: a "bottom frame" well under a row below the last
        # ruling is the paper's edge or its shadow (faint books: stronger than their rulings).
        h_found = h_found[:-1]
        bottom = h_found[-1]
    labels = _label_rows(masks.text, top, left, right, pitch, h_found)
    label_bottom = labels[1]
    closing = header_bottom(h_found, top, labels, pitch)
    # Row boundaries run up from the bottom frame in steps of the pitch, snapped to the rulings
    # seen; they stop at the header: at the ruling under its labels when one is seen (whatever
    # the header's height), else where the labels are.
    edges = [bottom]
    while True:
        predicted = edges[-1] - pitch
        if closing is not None:
            if predicted < closing + 0.5 * pitch:
                if edges[-1] - closing > 0.5 * pitch:
                    edges.append(closing)
                break
        elif predicted - top < 0.6 * pitch or predicted < label_bottom - 0.1 * pitch:
            break
        edges.append(_snap(predicted, h_found, 0.2 * pitch))
    if len(edges) < 2:
        raise GridNotFoundError("The ledger table has no data rows below its header.")
    row_edges = [round(e) for e in reversed(edges)]
    # Rulings too faint to detect still leave dashes where the grid says they run: remove
    # those too, or they read as strokes in empty cells.
    table = Box(round(left), round(top), round(right - left), round(bottom - top))
    expected = _ruling_pixels(masks.ink, row_edges, col_edges, table, half_width)
    masks.rulings = cv2.bitwise_or(masks.rulings, expected)
    masks.text = cv2.subtract(cv2.subtract(masks.ink, masks.rulings), masks.stamps)
    header = Box(round(left), round(top), round(right - left), row_edges[0] - round(top))
    filled = _filled_bands(masks.text, row_edges, col_edges, settings)
    seen = sum(1 for e in row_edges if any(abs(e - h) <= 0.2 * pitch for h in h_found))
    method = "rulings" if seen == len(row_edges) else "partial_rulings"
    return LedgerGrid(table, header, col_edges, row_edges, filled, method, len(h_found), len(v_found), masks,
                      columns)


def _filled_bands(text: np.ndarray, row_edges: list[int], col_edges: list[int], settings: GridSettings) -> list[int]:
    """Row bands whose inside (away from the rulings) carries handwriting."""
    filled = []
    for band in range(len(row_edges) - 1):
        y0, y1 = row_edges[band], row_edges[band + 1]
        inset = max(2, (y1 - y0) // 10)
        region = text[y0 + inset : y1 - inset, col_edges[0] : col_edges[-1]]
        if region.size == 0:
            continue
        if writing_pixels(region) >= settings.min_row_ink_pixels:
            filled.append(band)
    return filled


def writing_pixels(region: np.ndarray) -> int:
    """Ink pixels in shapes that look like writing: specks (noise, dust) and thin straight
    remnants of rulings do not count."""
    if region.size == 0:
        return 0  # OpenCV's component labelling crashes on an empty image
    count, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    widths, heights, areas = stats[1:, 2], stats[1:, 3], stats[1:, 4]
    # A ruling remnant crosses most of the band and is only a few px thick; even a tall "1" or
    # "l" does not reach 60% of a row's height.
    span = np.maximum(widths, heights)
    thin_line = (span > 0.6 * region.shape[0]) & (areas / np.maximum(span, 1) < 7)
    writing = (areas >= 12) & ~thin_line
    return int(areas[writing].sum())


def _grid_from_text(layout: LedgerLayout, settings: GridSettings, masks: InkMasks,
                    h_found: list[float], v_found: list[float]) -> LedgerGrid:
    """No usable rulings: columns from the printed header labels, rows from the handwriting.

    The registration number is written alone in the first column, once per record, so its
    lines give the row pitch and phase; the column edges come from the template widths fitted
    to the labels.
    """
    text = masks.text
    height, width = text.shape
    profile = (text > 0).sum(axis=1).astype(np.float64)
    line_gap = max(3, height // 300)
    # A row needs ink across 1% of the width to count: stray ascenders do not join bands.
    bands = [b for b in _text_bands(profile, line_gap, 0.01 * width) if b[1] - b[0] >= 6]
    label_top, label_bottom = _label_band(bands, text, len(layout.columns))
    left, right = _fit_columns_to_labels(text, label_top, label_bottom, layout)
    col_edges = match_columns(v_found, left, right, layout)
    numbers = _first_column_lines(text, col_edges, label_bottom + line_gap, height)
    below = [b for b in bands if b[0] > label_bottom]
    if not below:
        raise GridNotFoundError("The ledger page has a header but no handwriting lines.")
    if len(numbers) >= 2:
        pitch, first_centre = _fit_lattice(numbers, float(np.median(np.diff(numbers))))
    else:
        pitch = float(np.median([b - a for a, b in below])) * 2.0
        first_centre = numbers[0] if numbers else (below[0][0] + below[0][1]) / 2
    start = max(label_bottom + 2.0, first_centre - pitch / 2)
    last = max(b for _, b in below)
    row_edges = [round(start)]
    while row_edges[-1] < last - 0.25 * pitch and row_edges[-1] + pitch <= height:
        row_edges.append(round(row_edges[-1] + pitch))
    if len(row_edges) < 2:
        row_edges.append(min(height, round(start + pitch)))
    # The labels sit centred in the header row.
    top = max(0, round(label_top + label_bottom - start))
    header = Box(round(left), top, round(right - left), row_edges[0] - top)
    filled = _filled_bands(text, row_edges, col_edges, settings)
    table = Box(round(left), top, round(right - left), row_edges[-1] - top)
    return LedgerGrid(table, header, col_edges, row_edges, filled, "text_lines", len(h_found), len(v_found), masks)


def _first_column_lines(text: np.ndarray, col_edges: list[int], y_from: int, y_to: int) -> list[float]:
    """Centres of the text lines in the first column (registration numbers: one per record)."""
    line_gap = max(3, text.shape[0] // 300)
    column = text[y_from:y_to, col_edges[0] : col_edges[1]]
    profile = (column > 0).sum(axis=1).astype(np.float64)
    return [y_from + (a + b) / 2 for a, b in _text_bands(profile, line_gap * 3, 1) if b - a >= 6]


def _label_band(bands: list[tuple[int, int]], text: np.ndarray, columns: int) -> tuple[int, int]:
    """Rows of the printed column labels: the first text band split into many separate chunks,
    after the title line (the topmost band, holding one long chunk: the centred title).

    Label lines of one header (2-3 lines each) are joined into one band.
    """
    height, width = text.shape
    gap = max(6, width // 100)

    def chunks(a: int, b: int) -> list[tuple[int, int]]:
        occupied = np.asarray((text[a:b] > 0).any(axis=0), dtype=np.float64)
        return [c for c in _text_bands(occupied, gap, 0) if c[1] - c[0] >= 3]

    first = 0
    if bands and max((d - c for c, d in chunks(*bands[0])), default=0) > 0.2 * width:
        first = 1  # skip the title line
    for index in range(first, min(len(bands), first + 6)):
        a, b = bands[index]
        if len(chunks(a, b)) >= max(4, columns // 2):
            bottom = b
            for c, d in bands[index + 1 :]:
                if c - bottom > 0.012 * height:
                    break
                bottom = d
            return a, bottom
    raise GridNotFoundError("No ledger grid and no printed column labels found on the page.")
