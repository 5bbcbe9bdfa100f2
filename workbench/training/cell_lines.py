"""Text-line crops of stored cells, cut by the page pipeline's own cell cutter (``ocr.cells``).

Training and re-recognition must see the lines the recognizer sees at ingest: the stored
deskewed page goes through the same ink/ruling masks (``ocr.grid.detect_grid``) and the same
per-cell line splitting (``ocr.cells.cut_cell`` on the grid's ink-gray image, as ``ocr.page``
does), at the cell boxes stored on each field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.cells import assign_components, cut_cell, find_components
from ocr.grid import GridNotFoundError, detect_grid
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
    components = find_components(grid.masks.text)
    images = []
    for cell in cells:  # each record has its own row height (it scales the ruling-remnant filter)
        ids = assign_components(components, [cell.box], cell_settings.min_component_pixels, cell.row_height)[0]
        images.append(cut_cell(grid.masks.gray, components, ids, cell.key, cell.box, cell.row_height, cell_settings))
    return images
