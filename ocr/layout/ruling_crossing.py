"""Strokes written across a vertical ruling, given back to the text mask.

The grid removes all ink in a band a few px wide around each ruling, so a glyph written across
a column's ruling falls apart and its pieces go to different cells. ``rejoin_cut_strokes`` puts
back the band's writing (see its docstring); ``ocr.layout.cells.grid_components`` calls it before the
page's ink is split into components.
"""

from __future__ import annotations

import cv2
import numpy as np


def rejoin_cut_strokes(text: np.ndarray, rulings: np.ndarray, col_edges: list[int],
                       row_edges: list[int]) -> np.ndarray:
    """The text mask with the ink of strokes written across a vertical ruling given back.

    The grid removes all ink in a band a few px wide around each ruling (blur, residual skew),
    so a glyph written across a column ruling falls apart and its pieces go to different cells.
    Per data row and ruling, the ruling's own columns are found from the rows where it is the
    only ink; band ink beside them is writing, and the ruling's pixels are writing where ink
    touches them on both sides (a stroke crosses). Only ink joined to text outside the band
    comes back (never a loose piece of the ruling's blurred edge). Rows near the horizontal
    rulings are left as they are (those pixels belong to the junctions).
    """
    text = text.copy()
    width = text.shape[1]
    for top, bottom in zip(row_edges[:-1], row_edges[1:], strict=False):
        height = bottom - top
        margin, reach = int(np.ceil(0.1 * height)), max(8, int(np.ceil(0.1 * height)))
        y0, y1 = top + margin, bottom - margin
        edges = np.array([e for e in col_edges if reach <= e < width - reach], dtype=np.intp)
        if y1 - y0 < 3 or not len(edges):
            continue
        columns = edges[:, None] + np.arange(-reach, reach + 1)  # (rulings, strip width)
        # All the row's rulings at once, as (ruling, row, column) strips.
        band = (rulings[y0:y1][:, columns] > 0).transpose(1, 0, 2)
        written = (text[y0:y1][:, columns] > 0).transpose(1, 0, 2)
        writing = _crossing_ink(band, band | written)
        if not writing.any():
            continue
        which, ys, xs = np.nonzero(_joined_to_text(writing, written))
        text[y0 + ys, columns[which, xs]] = 255
    return text


def _crossing_ink(band: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The pixels of each ruling's removed band (one data row) that are writing, not ruling.

    band, ink: (ruling, row, column) strips centred on the rulings. A ruling whose own columns
    cannot be told (too few rows where it is the only ink: a faint or broken ruling, whose
    pieces must not come back as strokes) gives nothing back.
    """
    rows, width = band.shape[1:]
    counts = band.sum(axis=2)
    inked = counts > 0
    first = np.argmax(band, axis=2)
    last = width - 1 - np.argmax(band[:, :, ::-1], axis=2)
    single_run = inked & (last - first + 1 == counts)
    # Rows where the ruling is alone: one run about as thin as the ruling's thinner rows (a low
    # quantile: a stroke written along the ruling makes many rows one thicker run).
    runs = single_run.sum(axis=1)
    ordered = np.sort(np.where(single_run, counts, width + 1), axis=1)  # other rows sort last
    thin = np.take_along_axis(ordered, np.maximum(runs - 1, 0)[:, None] // 5, axis=1)
    alone = single_run & (counts <= thin + 1)
    usable = (inked.mean(axis=1) >= 0.3) & (alone.sum(axis=1) >= max(3, 0.1 * rows))
    # The ruling's columns in every row: those of the nearest rows above and below where it is
    # alone (it drifts a px or so along a row with the residual skew).
    lo = np.minimum(_nearest_alone(first, alone, 1), _nearest_alone(first, alone, -1))[:, :, None]
    hi = np.maximum(_nearest_alone(last, alone, 1), _nearest_alone(last, alone, -1))[:, :, None]
    reach = 2  # "touching": at most one px of anti-aliased gap between stroke and ruling
    x = np.arange(width)
    core = (x >= lo) & (x <= hi)  # (ruling, row, column)
    beside = ink & ~core
    left = (beside & (x >= lo - reach) & (x < lo)).any(axis=2)
    right = (beside & (x > hi) & (x <= hi + reach)).any(axis=2)
    # A slanted stroke meets the ruling a few rows higher or lower on the other side (it runs
    # inside the ruling's columns in between): the rows from one meeting to the other cross.
    crossing = (_carried(left, 1) & _carried(right, -1)) | (_carried(right, 1) & _carried(left, -1))
    # This ruling's band: the columns with band ink next to its own; another line further off
    # (a double frame, a spurious line through text aligned down a column) is not part of it.
    empty = ~band.any(axis=1)
    ruling_lo, ruling_hi = lo.min(axis=1), hi.max(axis=1)  # (ruling, 1)
    band_lo = np.where(empty & (x < ruling_lo), x, -1).max(axis=1)[:, None, None]
    band_hi = np.where(empty & (x > ruling_hi), x, width).min(axis=1)[:, None, None]
    own_band = (x > band_lo) & (x < band_hi)
    writing = band & own_band & ~(core & ~crossing[:, :, None])
    return writing & usable[:, None, None]


def _nearest_alone(values: np.ndarray, alone: np.ndarray, step: int) -> np.ndarray:
    """(ruling, row) values taken from the nearest alone row above (step 1) or below (-1);
    from the other direction where there is none."""
    if step < 0:
        values, alone = values[:, ::-1], alone[:, ::-1]
    index = np.maximum.accumulate(np.where(alone, np.arange(values.shape[1]), -1), axis=1)
    # Rows before the first alone row take the first one.
    first_alone = np.argmax(alone, axis=1)[:, None]
    index = np.where(index < 0, first_alone, index)
    taken = np.take_along_axis(values, index, axis=1)
    return taken[:, ::-1] if step < 0 else taken


def _carried(rows: np.ndarray, step: int, span: int = 3) -> np.ndarray:
    """(ruling, row) flags, each also set on the next ``span`` rows down (step 1) or up (-1)."""
    carried = rows.copy()
    for shift in range(1, span + 1):
        if step > 0:
            carried[:, shift:] |= rows[:, :-shift]
        else:
            carried[:, :-shift] |= rows[:, shift:]
    return carried


def _joined_to_text(writing: np.ndarray, written: np.ndarray) -> np.ndarray:
    """The writing pixels 8-connected (within the strips) to the text outside the band."""
    rulings, rows, width = writing.shape
    # The strips side by side, one blank column apart, labelled at once.
    canvas = np.zeros((rows, rulings, width + 1), np.uint8)
    canvas[:, :, :width] = (writing | written).transpose(1, 0, 2)
    count, labels = cv2.connectedComponents(canvas.reshape(rows, -1), connectivity=8)
    labels = labels.reshape(rows, rulings, width + 1)[:, :, :width].transpose(1, 0, 2)
    anchored = np.zeros(count, dtype=bool)
    anchored[labels[written]] = True
    anchored[0] = False
    return writing & anchored[labels]
