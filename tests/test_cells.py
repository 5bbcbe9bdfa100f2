"""Line crops of ocr.cells keep the writing's faint ink, whiten foreign ink, and leave ink contrast alone."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.cells import assign_components, cut_cell, find_components
from ocr.imaging import ink_mask
from ocr.settings import CellSettings, GridSettings
from ocr.types import Box

PAPER, INK, FAINT = 205, 70, 196  # FAINT is too light for the ink mask, as a scanned hairline
ROW_HEIGHT = 80.0


def _cell_scan() -> tuple[np.ndarray, Box]:
    """A grey cell: two strokes joined by a faint hairline, and a neighbour's stroke poking in."""
    gray = np.full((80, 200), PAPER, np.uint8)
    cv2.line(gray, (40, 20), (40, 50), INK, 3)
    cv2.line(gray, (50, 20), (50, 50), INK, 3)
    cv2.line(gray, (50, 20), (120, 50), INK, 3)  # the crop box reaches past x=112
    cv2.line(gray, (42, 35), (48, 35), FAINT, 1)  # the hairline between the two strokes
    gray[22:26, 112:116] = INK  # a neighbour's stroke: its own component, centre outside the cell
    return gray, Box(0, 0, 110, 80)


def test_line_crop_keeps_faint_joins_and_whitens_foreign_ink() -> None:
    gray, box = _cell_scan()
    grid = GridSettings()
    text = ink_mask(gray, grid.ink_block, grid.ink_offset)
    assert text[35, 45] == 0  # the hairline is not in the text mask
    components = find_components(text)
    ids = assign_components(components, [box], 6, ROW_HEIGHT)[0]
    cell = cut_cell(gray, components, ids, "full_name", box, ROW_HEIGHT, CellSettings())

    assert not cell.is_empty and len(cell.lines) == 1
    line = cell.lines[0]
    x0, y0 = int(components.boxes[ids, 0].min()) - 2, int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding

    def at(y: int, x: int) -> int:
        return int(line[y - y0 + pad, x - x0 + pad])

    assert at(35, 45) < 250  # the faint join survives
    assert at(23, 113) == 255  # the neighbour's stroke is whitened
    assert np.median(line) >= 250  # paper scaled to white, to match the white pad
    # Ink keeps its contrast (no black-point stretch): the darkest ink is ink / paper, not black.
    assert abs(int(line.min()) - round(INK * 255 / PAPER)) <= 3
    assert cv2.countNonZero(255 - line) > 0


def test_stroke_gap_zero_drops_the_faint_join() -> None:
    gray, box = _cell_scan()
    grid = GridSettings()
    components = find_components(ink_mask(gray, grid.ink_block, grid.ink_offset))
    ids = assign_components(components, [box], 6, ROW_HEIGHT)[0]
    cell = cut_cell(gray, components, ids, "full_name", box, ROW_HEIGHT, CellSettings(stroke_gap=0))
    x0, y0 = int(components.boxes[ids, 0].min()) - 2, int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding
    assert cell.lines[0][35 - y0 + pad, 45 - x0 + pad] == 255
