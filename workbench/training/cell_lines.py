"""Text-line crops of stored cells, cut by the page pipeline's own cell cutter (``ocr.layout.cells``).

Training and re-recognition must see the lines the recognizer sees at ingest: the stored
deskewed page goes through the same ink/ruling masks (``ocr.layout.grid.detect_grid``) and the same
per-cell line splitting (``ocr.layout.cells.grid_components`` with strokes across rulings rejoined, and
``ocr.layout.cells.cut_cells`` row by row on the grid's ink-gray image, as ``ocr.layout.page`` does), at the cell
boxes stored on each field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.layout.cells import cut_cells, grid_components
from ocr.layout.grid import GridNotFoundError, detect_grid
from ocr.settings import CellSettings, GridSettings
from ocr.types import Box, CellImage, LedgerLayout


@dataclass(frozen=True)
class StoredCell:
    key: str
    box: Box  # on the deskewed page
    row_height: float  # the record's row height (line splitting scales with it)


def cut_stored_cells(
    deskewed: np.ndarray,
    layout: LedgerLayout,
    cells: list[StoredCell],
    grid_settings: GridSettings = GridSettings(),
    cell_settings: CellSettings = CellSettings(),
) -> list[CellImage] | None:
    """CellImage (lines top to bottom, or empty) for each stored cell; None if no grid is found."""
    try:
        grid = detect_grid(deskewed, layout, grid_settings)
    except GridNotFoundError:
        return None
    components = grid_components(grid, cell_settings)
    # The cells of one row are assigned together, as ingest does: a glyph written across the ruling
    # between two of them goes to the text it is written next to. Each record has its own row
    # height (it scales the ruling-remnant filter).
    rows: dict[tuple[int, int, float], list[int]] = {}
    for index, cell in enumerate(cells):
        rows.setdefault((cell.box.y, cell.box.h, cell.row_height), []).append(index)
    cut: dict[int, CellImage] = {}
    for (_, _, row_height), members in rows.items():
        row = cut_cells(grid.masks.gray, components, [cells[i].key for i in members], [cells[i].box for i in members],
                        row_height, cell_settings)
        cut.update(zip(members, row, strict=True))
    return [cut[i] for i in range(len(cells))]
