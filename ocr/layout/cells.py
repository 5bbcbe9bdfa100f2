"""Cut each field cell of a record into clean grayscale text-line crops for the recognizers.

Ink is assigned to cells by connected component, so handwriting that crosses a ruling still
belongs to the cell it was written in, and the neighbour's strokes poking in are whitened out
of the crop. Strokes cut apart by the removal of a vertical ruling are first joined again
(``ocr.layout.ruling_crossing.rejoin_cut_strokes``), and a glyph lying across a cell edge goes to the text it is written
next to (``assign_components``), not blindly to the side holding its centre of mass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr.image.imaging import ink_mask
from ocr.layout.grid import LedgerGrid, writing_pixels
from ocr.layout.ruling_crossing import rejoin_cut_strokes
from ocr.settings import CellSettings
from ocr.types import Box, CellImage


@dataclass
class InkComponents:
    """Connected components of the text mask (rulings already removed) of one page."""

    labels: np.ndarray  # int32 label image
    boxes: np.ndarray  # (N, 4) x, y, w, h per label (label 0 = background)
    areas: np.ndarray  # (N,) pixel count per label
    centres: np.ndarray  # (N, 2) centre of mass per label
    # uint8: the ink removed as ruling. Kept white in the crops, and where a stroke crosses the
    # ruling (rejoined into the text) no darker than the stroke's own ink.
    rulings: np.ndarray | None = None


def find_components(text_mask: np.ndarray, rulings: np.ndarray | None = None) -> InkComponents:
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(text_mask, connectivity=8)
    return InkComponents(labels, stats[:, :4], stats[:, cv2.CC_STAT_AREA], centroids, rulings)


def grid_components(grid: LedgerGrid, settings: CellSettings) -> InkComponents:
    """The page's text components as the cell cutter needs them: strokes cut by the vertical
    rulings rejoined (unless turned off), and the ruling mask to keep out of the crops."""
    text = grid.masks.text
    if settings.rejoin_cut_strokes:
        text = rejoin_cut_strokes(text, grid.masks.rulings, grid.col_edges, grid.row_edges)
    return find_components(text, grid.masks.rulings)


def assign_components(components: InkComponents, cell_boxes: list[Box], min_pixels: int,
                      row_height: float) -> list[np.ndarray]:
    """Component ids per cell: those whose centre of mass lies inside the cell, except glyphs
    lying across a cell's vertical edge, which go to the text they are written next to.

    Specks and thin straight ruling remnants (crossing most of a row, a few px thick) belong
    to no cell.
    """
    areas = components.areas
    centres = components.centres
    span = np.maximum(components.boxes[:, 2], components.boxes[:, 3])
    ruling_remnant = (span > 0.6 * row_height) & (areas / np.maximum(span, 1) < 7)
    # Nothing written in one cell spans several rows: such a shape is a frame or page edge.
    oversized = span > 2.5 * row_height
    keep = (areas >= min_pixels) & ~ruling_remnant & ~oversized
    keep[0] = False  # background
    ids = np.flatnonzero(keep)
    cx, cy = centres[ids, 0], centres[ids, 1]
    owner = np.full(len(ids), -1)
    for index, box in enumerate(cell_boxes):
        inside = (cx >= box.x) & (cx < box.x + box.w) & (cy >= box.y) & (cy < box.y + box.h)
        owner[inside] = index
    _give_edge_glyphs_to_their_text(components.boxes[ids], owner, cell_boxes, row_height)
    return [ids[owner == index] for index in range(len(cell_boxes))]


def _give_edge_glyphs_to_their_text(boxes: np.ndarray, owner: np.ndarray, cell_boxes: list[Box],
                                    row_height: float) -> None:
    """Re-own (in place) the components that lie across a cell's vertical edge.

    A date begun left of its column's ruling has its first digit's centre of mass in the
    neighbour cell. The text a glyph belongs to is the one it is written next to: the cell whose
    own ink (components wholly inside it, on the same text line) is horizontally nearest. A
    stroke of the neighbour's word poking in has that word right beside it, or is part of it
    (a component wider than a glyph), and stays; a lone glyph with no text near it keeps the
    centre-of-mass rule.
    """
    x0, y0 = boxes[:, 0].astype(float), boxes[:, 1].astype(float)
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    left = np.array([b.x for b in cell_boxes], dtype=float)
    right = np.array([b.x + b.w for b in cell_boxes], dtype=float)
    # (component, cell): the component's box reaches into the cell's columns. Only components
    # of these cells count (another row's descender, a scanner shadow beyond the frame: no).
    reaches = (x0[:, None] < right[None, :]) & (x1[:, None] > left[None, :])
    glyph_sized = boxes[:, 2] <= 0.5 * row_height
    across = (owner >= 0) & (reaches.sum(axis=1) > 1) & glyph_sized
    if not across.any():
        return
    wholly_inside = (owner >= 0) & (reaches.sum(axis=1) == 1)
    near = 0.25 * row_height  # a wider gap is a word gap or more: no evidence of belonging
    clearly = 0.05 * row_height
    for j in np.flatnonzero(across):
        overlap = np.minimum(y1, y1[j]) - np.maximum(y0, y0[j])
        same_line = wholly_inside & (overlap > 0.25 * np.minimum(boxes[:, 3], boxes[j, 3]))
        gaps = np.maximum(0, np.maximum(x0, x0[j]) - np.minimum(x1, x1[j]))
        nearest = {int(c): float(gaps[same_line & (owner == c)].min(initial=np.inf))
                   for c in np.flatnonzero(reaches[j])}
        best = min(nearest, key=lambda c: nearest[c])
        current = nearest.get(int(owner[j]), np.inf)
        if nearest[best] <= near and nearest[best] + clearly < current:
            owner[j] = best


def _line_bands(profile: np.ndarray, row_height: float) -> list[tuple[int, int]]:
    """Text-line bands of a cell from its row ink profile.

    Runs of inked rows; accents and dots (thin runs) join the nearest line; a run much taller
    than one line (two lines touching) is split at its emptiest row near the middle.
    """
    min_gap = max(1, round(0.02 * row_height))
    runs: list[list[int]] = []
    inked = profile > 0
    start = None
    for y, flag in enumerate(np.append(inked, False)):
        if flag and start is None:
            start = y
        elif not flag and start is not None:
            if runs and start - runs[-1][1] <= min_gap:
                runs[-1][1] = y
            else:
                runs.append([start, y])
            start = None
    if not runs:
        return []
    tallest = max(b - a for a, b in runs)
    # Thin runs (diacritics above a line, a dot below) join their closest neighbour.
    merged = True
    while merged and len(runs) > 1:
        merged = False
        for i, (a, b) in enumerate(runs):
            if b - a < 0.35 * tallest:
                if i == 0:
                    j = 1
                elif i == len(runs) - 1:
                    j = i - 1
                else:
                    j = i - 1 if a - runs[i - 1][1] <= runs[i + 1][0] - b else i + 1
                lo, hi = min(i, j), max(i, j)
                runs[lo] = [min(runs[lo][0], runs[hi][0]), max(runs[lo][1], runs[hi][1])]
                del runs[hi]
                merged = True
                break
    bands: list[tuple[int, int]] = []
    for a, b in runs:
        if b - a > 0.62 * row_height:
            # Two lines whose descenders and ascenders touch: cut at the thinnest row between.
            middle = profile[a + (b - a) // 4 : a + (b - a) * 3 // 4]
            if len(middle):
                cut = a + (b - a) // 4 + int(np.argmin(middle))
                # A real gap between lines is thin compared with both lines (a short second
                # line like "Hải" has a low profile of its own).
                weaker_line = min(float(profile[a:cut].max()), float(profile[cut:b].max()))
                if profile[cut] <= 0.5 * weaker_line:
                    bands.extend([(a, cut), (cut, b)])
                    continue
        bands.append((a, b))
    return bands


def _percentile_u8(values: np.ndarray, fraction: float) -> float:
    """Percentile of uint8 values by histogram: far cheaper than np.percentile on small crops."""
    counts = np.bincount(values.ravel(), minlength=256)
    total = int(counts.sum())
    if total == 0:
        return 255.0
    return float(np.searchsorted(np.cumsum(counts), fraction * total))


def _whiten_paper(crop: np.ndarray, ink: np.ndarray, keep: np.ndarray, padding: int) -> np.ndarray:
    """Scale the paper to white (ink keeps its own contrast), whiten what is not kept, pad with white.

    No black-point stretch: mapping the darkest ink to black thickened strokes and misread
    digits (pipeline dates, seeds 13/14: 80%/84% exact with it, 88%/91% without). The recognizer
    whitens each line's paper itself, but the white pad and the whitened pixels need white
    paper next to them, or the step reads as a stroke.
    """
    paper = _percentile_u8(crop[~ink], 0.5) if (~ink).any() else 255.0
    line = cv2.convertScaleAbs(crop, alpha=255.0 / max(paper, 1.0))
    line[~keep] = 255
    return cv2.copyMakeBorder(line, padding, padding, padding, padding, cv2.BORDER_CONSTANT, value=255)


def _membership(labels: np.ndarray, ids: np.ndarray, count: int) -> np.ndarray:
    """Boolean mask of the pixels whose label is one of ids (a lookup table, not np.isin)."""
    table = np.zeros(count, dtype=bool)
    table[ids] = True
    return table[labels]


def cut_cells(gray: np.ndarray, components: InkComponents, keys: Sequence[str], boxes: Sequence[Box],
              row_height: float, settings: CellSettings) -> list[CellImage]:
    """The cells of one ledger row (``keys`` and ``boxes`` side by side), cut together: the row's ink
    is assigned to its cells first (``assign_components``: a glyph written across the ruling between
    two of them goes to the text it is written next to), then each cell is cut (``cut_cell``).

    The one cell cutter: page analysis (``ocr.layout.page``), the grid editor, training and
    re-recognition (``workbench.training.cell_lines``) all cut cells through it.
    """
    owned = assign_components(components, list(boxes), settings.min_component_pixels, row_height)
    return [cut_cell(gray, components, ids, key, box, row_height, settings)
            for key, box, ids in zip(keys, boxes, owned, strict=True)]


def cut_cell(gray: np.ndarray, components: InkComponents, ids: np.ndarray, key: str, box: Box,
             row_height: float, settings: CellSettings) -> CellImage:
    """One cell: empty, or its text lines (top to bottom) as clean grayscale crops."""
    if len(ids) == 0 or int(components.areas[ids].sum()) < settings.min_cell_ink_pixels:
        return empty_cell(gray, components, key, box, settings)
    boxes = components.boxes[ids]
    y0 = int(boxes[:, 1].min())
    y1 = int((boxes[:, 1] + boxes[:, 3]).max())
    x0 = int(boxes[:, 0].min())
    x1 = int((boxes[:, 0] + boxes[:, 2]).max())
    local = _local_index(components.labels[y0:y1, x0:x1], ids, len(components.areas))
    profile = (local >= 0).sum(axis=1)
    bands = _split_stacked_words(_line_bands(profile, row_height), profile, components, ids, y0)
    if not bands:
        return empty_cell(gray, components, key, box, settings)
    if len(bands) == 1:
        crops = [_line_crop(gray, components, ids, settings)]
    else:
        band_rows = _band_of_rows(bands, y1 - y0)
        masks = _line_masks(local, band_rows, profile, bands, boxes - [x0, y0, 0, 0])
        crops = [_line_crop(gray, components, ids, settings, (mask, x0, y0)) for mask in masks]
    lines = [crop for crop in crops if crop is not None]
    # The ink counts only serve a doubtful "empty": not paid for cells that hold lines (~7% of a page's CPU).
    return CellImage(key=key, box=box, lines=lines, is_empty=False) if lines else \
        empty_cell(gray, components, key, box, settings)


def _band_of_rows(bands: Sequence[tuple[int, int]], height: int) -> np.ndarray:
    """For each row of a cell's ink box, the line band it belongs to (rows between bands: the nearer)."""
    rows = np.arange(height)
    lows = np.array([a for a, _ in bands])
    highs = np.array([b for _, b in bands])
    distance = np.maximum(lows[None, :] - rows[:, None], 0) + np.maximum(rows[:, None] - (highs[None, :] - 1), 0)
    return np.argmin(distance, axis=1)


def _local_index(labels: np.ndarray, ids: np.ndarray, count: int) -> np.ndarray:
    """Each pixel's position in ``ids`` (-1: not one of them)."""
    table = np.full(count, -1, dtype=np.int32)
    table[ids] = np.arange(len(ids), dtype=np.int32)
    return table[labels]


# A component whose rows cover this share of a line's core (its rows of at least half the line's
# peak ink) is written on that line; one covering two lines' cores is two lines' strokes joined.
LINE_CORE_SHARE = 0.6
# Less than this share of any core: a mark, dot or tail between lines. It stays on the line its centre
# lies in unless another line's writing is clearly nearer (this share of the distance, or less): the
# two are often close, and a stamp's stroke or a dot moved to the wrong line reads as an accent.
MARK_CORE_SHARE = 0.3
MARK_MOVE_RATIO = 0.5


def _line_masks(local: np.ndarray, band_rows: np.ndarray, profile: np.ndarray,
                bands: Sequence[tuple[int, int]], boxes: np.ndarray) -> list[np.ndarray]:
    """The ink pixels of each line of a cell (one mask per band of ``bands``).

    ``local`` holds each pixel's component (index into ``boxes``, the components' boxes relative to
    the same crop). By centre of mass alone, a word whose descender touches the next line's word
    ("Nguyễn" joined to "Mỹ" below it) went whole to the lower line and left the upper one holding
    only its tilde; and a dot under "ạ" just past the cut went to the line below. So:
    a component covering the cores of two lines is shared: each line takes its rows from the core
    above to the core below, so the upper word keeps its descenders and the lower its ascenders
    (cut at one row, "Nguyễn" read "Nouuễn"); one on a single core goes whole to that line (a
    descender's tail poking past the cut stays on it); a mark touching no core stays on the line of
    its centre, unless another line's writing is clearly nearer to it (``_distance_to_lines``).
    """
    count, lines = len(boxes), len(bands)
    height = local.shape[0]
    cores = []
    for a, b in bands:
        peak = profile[a:b].max(initial=0)
        core = np.flatnonzero(profile[a:b] >= 0.5 * peak) + a
        cores.append((int(core[0]), int(core[-1]) + 1) if len(core) else (a, b))
    ys, xs = np.nonzero(local >= 0)
    comp = local[ys, xs]
    present = np.zeros((count, height), dtype=bool)
    present[comp, ys] = True
    covered = np.array([[present[c, lo:hi].sum() / max(hi - lo, 1) for lo, hi in cores] for c in range(count)])
    per_line = np.zeros((count, lines))
    np.add.at(per_line, (comp, band_rows[ys]), 1)
    owner_of = np.full(count, -1)
    split = (covered >= LINE_CORE_SHARE).sum(axis=1) >= 2
    placed = ~split & (covered.max(axis=1) >= MARK_CORE_SHARE)
    owner_of[placed] = np.argmax(np.where(covered[placed] >= MARK_CORE_SHARE, per_line[placed], -1), axis=1)
    owned = np.full(local.shape, -1, dtype=np.int32)
    whole = owner_of[comp]
    owned[ys, xs] = np.where(split[comp], band_rows[ys], whole)
    marks = np.flatnonzero(~split & ~placed)
    if len(marks) and (owned >= 0).any():
        near = _distance_to_lines(owned, cores)
        for c in marks:
            at = local == c
            to_line = near[:, at].min(axis=1)
            _, y, _, h = boxes[c]
            by_centre = int(band_rows[min(int(y + h // 2), len(band_rows) - 1)])
            nearest = int(np.argmin(to_line))
            owned[at] = nearest if to_line[nearest] <= MARK_MOVE_RATIO * to_line[by_centre] else by_centre
    shared = split[np.maximum(local, 0)] & (local >= 0)
    masks = []
    for line in range(lines):
        top = cores[line - 1][1] if line > 0 else 0
        bottom = cores[line + 1][0] if line + 1 < lines else height
        reach = np.zeros(height, dtype=bool)
        reach[top:bottom] = True
        masks.append((owned == line) | (shared & reach[:, None]))
    return masks


def _distance_to_lines(owned: np.ndarray, cores: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per line, each pixel's distance to that line's placed writing down to its core's foot: a mark
    sits next to its letter (a dot under "ạ", a tilde over "ũ" or a capital "Ễ", a comma after
    "Lộc"). A line's descenders do not count: the tails of "g" and "y" reach nearer to the marks of
    the line below than its own letters do."""
    far = float(owned.shape[0] + owned.shape[1])  # a line left with no writing is never nearest
    distances = []
    for line, (_, core_bottom) in enumerate(cores):
        writing = owned == line
        writing[core_bottom + 2 :] = False
        distances.append(cv2.distanceTransform((~writing).view(np.uint8), cv2.DIST_L2, 3) if writing.any()
                         else np.full(owned.shape, far, dtype=np.float32))
    return np.stack(distances)


def empty_cell(gray: np.ndarray, components: InkComponents, key: str, box: Box, settings: CellSettings) -> CellImage:
    """A cell judged empty, with the ink that may still be in it: the text mask's writing-like
    pixels, and whether a lower-contrast look finds writing too pale for that mask."""
    return CellImage(key=key, box=box, lines=[], is_empty=True, ink_pixels=ink_inside(components, box),
                     faint_ink=faint_writing_inside(gray, box, settings) >= settings.faint_ink_min_pixels)


# Word-sized strokes whose centres lie this many word heights apart, one above the other, are
# on different lines (per-word baseline wobble stays well under half a word's height).
STACKED_WORDS_GAP = 0.75


def _split_stacked_words(bands: list[tuple[int, int]], profile: np.ndarray, components: InkComponents,
                         ids: np.ndarray, y0: int) -> list[tuple[int, int]]:
    """Bands holding words written one above the other, split between them.

    Writing wrapped onto two or three lines in a tight cell ("Nguyễn / Thị / Hồng") touches from
    line to line, so the ink profile shows one band; the words themselves still sit at distinct
    heights. Each band's word-sized strokes (a quarter of the cell's largest area and half its
    tallest height or more: marks, dots and specks left out) are sorted by height; a jump of
    STACKED_WORDS_GAP word heights between neighbours starts a new line when the words above
    and below it share columns (a line written on a slope steps down, but never under itself),
    cut at the emptiest row between the two.
    """
    areas = components.areas[ids]
    tall = components.boxes[ids, 3]
    word = (areas >= 0.25 * areas.max()) & (tall >= 0.5 * tall.max())
    centres = components.centres[ids[word], 1] - y0
    heights = tall[word]
    lefts = components.boxes[ids[word], 0]
    rights = lefts + components.boxes[ids[word], 2]
    out: list[tuple[int, int]] = []
    for a, b in bands:
        inside = np.flatnonzero((centres >= a) & (centres < b))
        if len(inside) < 2:
            out.append((a, b))
            continue
        inside = inside[np.argsort(centres[inside])]
        gap = STACKED_WORDS_GAP * float(np.median(heights[inside]))
        start, first = a, 0
        for k in range(1, len(inside)):
            upper, lower = inside[first:k], inside[k:]
            jump = centres[inside[k]] - centres[inside[k - 1]]
            if jump <= gap or not _share_columns(lefts[upper], rights[upper], lefts[lower], rights[lower]):
                continue
            lo, hi = int(centres[inside[k - 1]]), int(centres[inside[k]]) + 1
            cut = lo + int(np.argmin(profile[lo:hi]))
            out.append((start, cut))
            start, first = cut, k
        out.append((start, b))
    return out


def _share_columns(left_a: np.ndarray, right_a: np.ndarray, left_b: np.ndarray, right_b: np.ndarray) -> bool:
    """Two groups of words overlap horizontally by a third of the narrower group's width."""
    overlap = min(right_a.max(), right_b.max()) - max(left_a.min(), left_b.min())
    narrower = min(right_a.max() - left_a.min(), right_b.max() - left_b.min())
    return bool(overlap >= narrower / 3)


def faint_writing_inside(gray: np.ndarray, box: Box, settings: CellSettings) -> int:
    """Writing-like pixels of the cell's inside (as ink_inside) at the faint-ink contrast: pixels
    ``faint_ink_offset`` levels darker than their ``faint_ink_block`` neighbourhood."""
    inset = max(2, box.h // 10)
    x0, y0, x1, y1 = box.x + inset, box.y + inset, box.x + box.w - inset, box.y + box.h - inset
    if x1 <= x0 or y1 <= y0:
        return 0
    reach = settings.faint_ink_block // 2 + 1  # the threshold's window sees past the inside
    height, width = gray.shape
    top, left = max(0, y0 - reach), max(0, x0 - reach)
    around = gray[top : min(height, y1 + reach), left : min(width, x1 + reach)]
    faint = ink_mask(around, settings.faint_ink_block, settings.faint_ink_offset)
    return writing_pixels(faint[y0 - top : y1 - top, x0 - left : x1 - left])


def ink_inside(components: InkComponents, box: Box) -> int:
    """Writing-like ink pixels of the cell, a tenth of its height in from its rulings (specks and
    ruling remnants do not count; see ocr.layout.grid.writing_pixels)."""
    inset = max(2, box.h // 10)
    labels = components.labels[box.y + inset : box.y + box.h - inset, box.x + inset : box.x + box.w - inset]
    return writing_pixels((labels > 0).astype(np.uint8))


def _line_crop(gray: np.ndarray, components: InkComponents, ids: np.ndarray, settings: CellSettings,
               pixels: tuple[np.ndarray, int, int] | None = None) -> np.ndarray | None:
    """The crop of the ink of components ``ids``, or, with ``pixels`` (a mask and the page position of
    its top-left corner), of only the pixels of those components that the mask holds: one line of a
    cell whose components may be shared with the line above or below (``_line_masks``)."""
    if len(ids) == 0:
        return None
    height, width = gray.shape
    margin = 2  # keep the anti-aliased edges of the outermost strokes
    if pixels is None:
        boxes = components.boxes[ids]
        left, top = int(boxes[:, 0].min()), int(boxes[:, 1].min())
        right, bottom = int((boxes[:, 0] + boxes[:, 2]).max()), int((boxes[:, 1] + boxes[:, 3]).max())
    else:
        mask, mask_x, mask_y = pixels
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows) == 0:
            return None
        left, right = mask_x + int(cols[0]), mask_x + int(cols[-1]) + 1
        top, bottom = mask_y + int(rows[0]), mask_y + int(rows[-1]) + 1
    reach = int(MARK_REACH * (bottom - top))
    x0, y0 = max(0, left - margin), max(0, top - reach - margin)
    x1, y1 = min(width, right + margin), min(height, bottom + margin)
    labels = components.labels[y0:y1, x0:x1]
    mine = _membership(labels, ids, len(components.areas))
    if pixels is not None:
        held = np.zeros_like(mine)
        held[top - y0 : bottom - y0, left - x0 : right - x0] = \
            mask[top - mask_y : bottom - mask_y, left - mask_x : right - mask_x]
        mine &= held
    mine |= _mark_pieces(labels, components.areas, mine, reach, settings.min_component_pixels)
    inked = np.flatnonzero(mine.any(axis=1))
    if len(inked) == 0:
        return None
    first = max(0, int(inked[0]) - margin)  # the crop starts at the highest kept ink, not at the reach
    labels, mine, y0 = labels[first:], mine[first:], y0 + first
    # The text mask breaks faint hairlines (a cursive lead-in, a diacritic's thin joint) into
    # pieces: closing it keeps the faint ink between them. Stroke edges fall just outside the
    # mask: keep a thin halo of unlabelled pixels around that, and whiten everything else (the
    # neighbours' strokes, rulings). A wide halo instead keeps a ruling beside the text ("342"
    # -> "1342"); the ruling pixels themselves stay white even inside the halo (a glyph written
    # across a ruling has it right beside its strokes).
    bridge = settings.stroke_gap | 1
    bridged = cv2.morphologyEx(mine.astype(np.uint8), cv2.MORPH_CLOSE,
                               cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bridge, bridge)))
    halo = cv2.dilate(bridged, np.ones((5, 5), np.uint8)).astype(bool)
    crop = gray[y0:y1, x0:x1]
    unlabelled = labels == 0
    ruling = None if components.rulings is None else components.rulings[y0:y1, x0:x1] > 0
    if ruling is not None and ruling.any():
        crossed = (mine & ruling) | _ruling_between_strokes(mine, ruling & ~mine)
        crop = _lift_crossed_ruling(crop, crossed, mine & ~ruling)
        mine = mine | crossed
        # The rest of the ruling stays white, with its blurred edges (too light for the ink
        # mask, still a line).
        line = (ruling & ~crossed).view(np.uint8)
        unlabelled &= ~cv2.dilate(line, np.ones((3, 3), np.uint8)).astype(bool)
    keep = halo & (unlabelled | mine)
    return _whiten_paper(crop, mine, keep, settings.padding)


# Faint thin marks (a tilde, a grave in pale ink) break in the text mask into pieces smaller than a
# speck (CellSettings.min_component_pixels), which no cell keeps: "Nguyễn Hoài Hằng" was cut as
# "Nguyen Hoai Hang". Such pieces are kept where they sit over the line's own strokes, up to this share
# of the line's ink height above them, and are MARK_PIECE_MIN_PIXELS or more.
MARK_REACH = 0.5
MARK_PIECE_MIN_PIXELS = 2


def _mark_pieces(labels: np.ndarray, areas: np.ndarray, mine: np.ndarray, reach: int, speck: int) -> np.ndarray:
    """The speck-sized pieces of the text mask lying over a line's strokes, above its core: what is
    left of its faint marks."""
    small = (labels > 0) & (areas[labels] < speck) & (areas[labels] >= MARK_PIECE_MIN_PIXELS)
    if not small.any() or reach <= 0:
        return np.zeros_like(small)
    # Each stroke pixel claims the rows up to ``reach`` above it, a few columns either side.
    upward = np.zeros((2 * reach + 1, 7), np.uint8)
    upward[reach:, :] = 1
    over = cv2.dilate(mine.view(np.uint8), upward, anchor=(3, reach)).astype(bool)
    # Only above the line's core (its x-height): marks over letters, not specks among or under them
    # (a stamp's crumbs beside "nhà," were read ",y"). A dot under a letter is kept whole already.
    profile = mine.sum(axis=1)
    core_top = int(np.argmax(profile >= 0.5 * profile.max()))
    over[core_top + 2 :] = False
    reaching = np.unique(labels[small & ~over])  # a piece partly below the core is not a mark
    return small & over & ~np.isin(labels, reaching)


def _ruling_between_strokes(mine: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Ruling pixels whose row run meets the line's own strokes on both sides (the other side
    up to two rows higher or lower): where a glyph of this line crosses the ruling.

    The labelling only rejoins a stroke that meets the ruling on both sides in the same rows;
    a glyph curving across it (an "S") would otherwise show a white slit. A bowl beside the
    ruling with paper in between does not meet it, so its inside stays white.
    """
    from_left = _run_reached(mine, line, 1)
    from_right = _run_reached(mine, line, -1)
    tolerance = np.ones((5, 1), np.uint8)
    from_left_near = cv2.dilate(from_left.view(np.uint8), tolerance).astype(bool)
    from_right_near = cv2.dilate(from_right.view(np.uint8), tolerance).astype(bool)
    return line & ((from_left & from_right_near) | (from_right & from_left_near))


def _run_reached(mine: np.ndarray, line: np.ndarray, step: int) -> np.ndarray:
    """Line pixels joined along their row to a stroke pixel (step 1: on their left, -1: right)."""
    reached = np.zeros_like(line)
    front = mine
    for _ in range(8):  # wider than any ruling's run
        shifted = np.zeros_like(front)
        if step > 0:
            shifted[:, 1:] = front[:, :-1]
        else:
            shifted[:, :-1] = front[:, 1:]
        front = shifted & line & ~reached
        if not front.any():
            break
        reached |= front
    return reached


def _lift_crossed_ruling(crop: np.ndarray, crossed: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Where the line's strokes cross a ruling, no darker than the strokes' own ink.

    Those pixels carry the ruling's darkness along the whole crossing; a printed ruling
    darker than the writing then reads as an extra "1" through the glyph.
    """
    if not crossed.any() or not own.any():
        return crop
    level = np.uint8(_percentile_u8(crop[own], 0.5))
    lifted = crop.copy()
    lifted[crossed] = np.maximum(lifted[crossed], level)
    return lifted
