"""Cut each field cell of a record into clean grayscale text-line crops for the recognizers.

Ink is assigned to cells by connected component (its centre of mass decides), so handwriting
that crosses a ruling still belongs to the cell it was written in, and the neighbour's strokes
poking in are whitened out of the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.settings import CellSettings
from ocr.types import Box, CellImage


@dataclass
class InkComponents:
    """Connected components of the text mask (rulings already removed) of one page."""

    labels: np.ndarray  # int32 label image
    boxes: np.ndarray  # (N, 4) x, y, w, h per label (label 0 = background)
    areas: np.ndarray  # (N,) pixel count per label
    centres: np.ndarray  # (N, 2) centre of mass per label


def find_components(text_mask: np.ndarray) -> InkComponents:
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(text_mask, connectivity=8)
    return InkComponents(labels, stats[:, :4], stats[:, cv2.CC_STAT_AREA], centroids)


def assign_components(components: InkComponents, cell_boxes: list[Box], min_pixels: int,
                      row_height: float) -> list[np.ndarray]:
    """Component ids per cell: those whose centre of mass lies inside the cell.

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
    result = []
    for box in cell_boxes:
        inside = (cx >= box.x) & (cx < box.x + box.w) & (cy >= box.y) & (cy < box.y + box.h)
        result.append(ids[inside])
    return result


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


def cut_cell(gray: np.ndarray, components: InkComponents, ids: np.ndarray, key: str, box: Box,
             row_height: float, settings: CellSettings) -> CellImage:
    """One cell: empty, or its text lines (top to bottom) as clean grayscale crops."""
    if len(ids) == 0 or int(components.areas[ids].sum()) < settings.min_cell_ink_pixels:
        return CellImage(key=key, box=box, lines=[], is_empty=True)
    boxes = components.boxes[ids]
    y0 = int(boxes[:, 1].min())
    y1 = int((boxes[:, 1] + boxes[:, 3]).max())
    x0 = int(boxes[:, 0].min())
    x1 = int((boxes[:, 0] + boxes[:, 2]).max())
    mine = _membership(components.labels[y0:y1, x0:x1], ids, len(components.areas))
    bands = _line_bands(mine.sum(axis=1), row_height)
    if not bands:
        return CellImage(key=key, box=box, lines=[], is_empty=True)
    # Each component goes to the line band holding its centre of mass (or the nearest band).
    band_centres = np.array([(a + b) / 2 for a, b in bands]) + y0
    centre_y = components.centres[ids, 1]
    owner = np.argmin(np.abs(centre_y[:, None] - band_centres[None, :]), axis=1)
    for index, (a, b) in enumerate(bands):
        inside = (centre_y >= a + y0) & (centre_y < b + y0)
        owner[inside] = index
    crops = [_line_crop(gray, components, ids[owner == index], settings) for index in range(len(bands))]
    lines = [crop for crop in crops if crop is not None]
    return CellImage(key=key, box=box, lines=lines, is_empty=not lines)


def _line_crop(gray: np.ndarray, components: InkComponents, ids: np.ndarray,
               settings: CellSettings) -> np.ndarray | None:
    if len(ids) == 0:
        return None
    boxes = components.boxes[ids]
    height, width = gray.shape
    margin = 2  # keep the anti-aliased edges of the outermost strokes
    x0 = max(0, int(boxes[:, 0].min()) - margin)
    y0 = max(0, int(boxes[:, 1].min()) - margin)
    x1 = min(width, int((boxes[:, 0] + boxes[:, 2]).max()) + margin)
    y1 = min(height, int((boxes[:, 1] + boxes[:, 3]).max()) + margin)
    labels = components.labels[y0:y1, x0:x1]
    mine = _membership(labels, ids, len(components.areas))
    # The text mask breaks faint hairlines (a cursive lead-in, a diacritic's thin joint) into
    # pieces: closing it keeps the faint ink between them. Stroke edges fall just outside the
    # mask: keep a thin halo of unlabelled pixels around that, and whiten everything else (the
    # neighbours' strokes, rulings). A wide halo instead keeps a ruling beside the text ("342"
    # -> "1342").
    bridge = settings.stroke_gap | 1
    bridged = cv2.morphologyEx(mine.astype(np.uint8), cv2.MORPH_CLOSE,
                               cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (bridge, bridge)))
    halo = cv2.dilate(bridged, np.ones((5, 5), np.uint8)).astype(bool)
    keep = halo & ((labels == 0) | mine)
    return _whiten_paper(gray[y0:y1, x0:x1], mine, keep, settings.padding)
