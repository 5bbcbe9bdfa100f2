"""One page image -> PageAnalysis: QA, crop/deskew, ledger grid, records and field cells.

Every step is timed and recorded with its settings and a small result summary, so the audit
trail can show how a record's crops were made.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

import cv2
import numpy as np

from ocr.image import page_qa
from ocr.image.deskew import compose, deskew_page
from ocr.image.imaging import resize_to_width
from ocr.image.page_qa import BLANK, NO_GRID, ROTATED_90, ROTATED_270, UPSIDE_DOWN, auto_rotated
from ocr.layout import table_qa
from ocr.layout.cells import cut_cells, grid_components
from ocr.layout.grid import GridNotFoundError, LedgerGrid, detect_grid, grid_from_lines
from ocr.page_warnings import PageWarning
from ocr.settings import PipelineSettings
from ocr.types import LedgerLayout, PageAnalysis, ProcessingStep, RecordRegion

__all__ = ["PipelineSettings", "analyze_at_lines", "analyze_page"]

T = TypeVar("T")
log = logging.getLogger(__name__)


def _timed(steps: list[ProcessingStep], name: str, settings: Any, run: Callable[[], T],
           summary: Callable[[T], dict[str, Any]]) -> T:
    start = time.perf_counter()
    value = run()
    step_settings = asdict(settings) if hasattr(settings, "__dataclass_fields__") else dict(settings)
    steps.append(ProcessingStep(name, step_settings, round(time.perf_counter() - start, 4), summary(value)))
    return value


def analyze_page(image: np.ndarray, layout: LedgerLayout,
                 settings: PipelineSettings = PipelineSettings()) -> PageAnalysis:
    """Run QA -> crop/deskew -> grid -> cells on one BGR page image.

    Never raises for a bad page: problems become warnings (blank, rotated, no grid) and the
    page simply yields fewer or no records.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    steps: list[ProcessingStep] = []
    warnings: list[PageWarning] = []
    height, width = image.shape[:2]
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float64)

    # One downscaled copy serves the QA checks and the skew search.
    preview, _ = resize_to_width(image, settings.deskew.fine_width)

    # 1. QA on the raw scan: blank pages stop here; pages turned by 90 degrees are turned back.
    blank = _timed(steps, "qa_blank", {"max_ink_fraction": settings.qa.blank_ink_fraction},
                   lambda: page_qa.ink_fraction(preview, settings.qa.analysis_width),
                   lambda fraction: {"ink_fraction": round(fraction, 5)})
    if blank < settings.qa.blank_ink_fraction:
        warnings.append(BLANK)
        return PageAnalysis(deskewed=image, deskew_angle=0.0, records=[], header_box=None,
                            transform=identity, warnings=warnings, steps=steps)

    turn = _timed(steps, "qa_orientation", settings.qa,
                  lambda: page_qa.text_is_vertical(preview, settings.qa.analysis_width),
                  lambda v: {"text_vertical": bool(v[0]), "margin": round(v[1], 3)})
    pre_transform = identity
    portrait = height > 1.15 * width
    landscape = width > 1.15 * height
    needed = settings.qa.vertical_min_margin
    if settings.qa.expect_landscape and landscape:
        needed = max(needed, settings.qa.landscape_vertical_min_margin)
    enough = turn[1] >= needed or (settings.qa.expect_landscape and portrait)
    if turn[0] and enough:
        # Which of 90/270 is decided after deskew with the upside-down check below.
        if settings.qa.auto_rotate:
            image = cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
            preview, _ = resize_to_width(image, settings.deskew.fine_width)
            pre_transform = page_qa.rotation_transform(90, width, height)
            warnings += [ROTATED_90, auto_rotated(90)]
        else:
            warnings.append(ROTATED_90)

    # 2. Crop off the scanner bed and level the page.
    deskewed = _timed(steps, "deskew", settings.deskew, lambda: deskew_page(image, settings.deskew, preview),
                      lambda r: {"angle_deg": round(r.angle_deg, 3), "border_found": r.border_found,
                                 "page_box": r.page_box.as_list(), "size": list(r.image.shape[:2])})
    page = deskewed.image
    transform = compose(deskewed.transform, pre_transform)

    flip = _timed(steps, "qa_upside_down", settings.qa, lambda: table_qa.ledger_upside_down(page),
                  lambda v: {"upside_down": bool(v[0]), "margin": round(v[1], 3)})
    if flip[0] and flip[1] >= settings.qa.flip_warn_margin:
        confident = settings.qa.auto_rotate and flip[1] >= settings.qa.flip_min_margin
        if ROTATED_90 in warnings:
            # The page was turned the other way: 270, not 90.
            warnings[warnings.index(ROTATED_90)] = ROTATED_270
            if auto_rotated(90) in warnings:
                warnings[warnings.index(auto_rotated(90))] = auto_rotated(270)
        else:
            warnings.append(UPSIDE_DOWN)
        if confident:
            h, w = page.shape[:2]
            page = cv2.rotate(page, cv2.ROTATE_180)
            transform = compose(page_qa.rotation_transform(180, w, h), transform)
            if UPSIDE_DOWN in warnings:
                warnings.append(auto_rotated(180))

    # 3. Ledger grid.
    try:
        grid = _timed(steps, "grid", settings.grid, lambda: detect_grid(page, layout, settings.grid),
                      _grid_summary)
    except GridNotFoundError as exc:
        warnings.append(NO_GRID)
        steps.append(ProcessingStep("grid", asdict(settings.grid), 0.0, {"error": str(exc)}))
        return PageAnalysis(deskewed=page, deskew_angle=deskewed.angle_deg, records=[], header_box=None,
                            transform=transform, warnings=warnings, steps=steps)
    if grid.method != "rulings":
        warnings.append(PageWarning(f"grid_{grid.method}"))
    if grid.columns is not None:
        steps[-1].result["columns"] = {"guessed": grid.columns.guessed, "extra_rulings": grid.columns.extra,
                                       "lines_outside_frame": grid.columns.outside,
                                       "worst_width_ratio": round(grid.columns.worst_ratio, 3)}
        warnings.extend(page_qa.column_warnings(grid.columns.guessed, grid.columns.worst_ratio, grid.columns.extra))
    _check_ink_beside_table(grid, steps[-1], warnings)

    # 4. Records and field cells.
    records = _cut_cells(steps, page, grid, layout, settings)
    return PageAnalysis(deskewed=page, deskew_angle=deskewed.angle_deg, records=records,
                        header_box=grid.header, transform=transform, warnings=warnings, steps=steps)


def analyze_at_lines(page: np.ndarray, layout: LedgerLayout, column_lines: Sequence[int], row_lines: Sequence[int],
                     settings: PipelineSettings = PipelineSettings()) -> PageAnalysis:
    """Records and field cells of an already levelled page, at grid lines a person gave.

    The grid editor's path: ``column_lines`` are the column edges (frame included) and ``row_lines``
    the row boundaries (the header's bottom first), in ``page`` pixels. The page gets the same ink
    masks and the same cell cutter as in analyze_page; nothing is detected or moved. Only the
    writing-beside-the-table check is redone (the new frame may have fixed or caused it).
    """
    if page.ndim == 2:
        page = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    steps: list[ProcessingStep] = []
    warnings: list[PageWarning] = []
    lines = {"method": "manual", "column_lines": list(column_lines), "row_lines": list(row_lines)}
    grid = _timed(steps, "grid", {**lines, **asdict(settings.grid)},
                  lambda: grid_from_lines(page, column_lines, row_lines, settings.grid), _grid_summary)
    _check_ink_beside_table(grid, steps[-1], warnings)
    records = _cut_cells(steps, page, grid, layout, settings)
    return PageAnalysis(deskewed=page, deskew_angle=0.0, records=records, header_box=None,
                        transform=None, warnings=warnings, steps=steps)


def _check_ink_beside_table(grid: LedgerGrid, grid_step: ProcessingStep, warnings: list[PageWarning]) -> None:
    """Writing beside the table: the frame may be too narrow and the fields a few columns off.
    A check of the grid's result, so it is recorded with the grid step (a few ms)."""
    beside = table_qa.ink_beside_table(grid.masks.text, grid.table)
    grid_step.result["ink_beside_table"] = {"left_share": round(beside.left, 4),
                                            "right_share": round(beside.right, 4),
                                            "min_share": table_qa.INK_BESIDE_TABLE_MIN_SHARE}
    for warning in beside.warnings():
        warnings.append(warning)
        log.warning("%s: writing beside the detected table (left %.1f%%, right %.1f%% of the ink inside); "
                    "columns may be missing or shifted", warning.code, 100 * beside.left, 100 * beside.right)


def _cut_cells(steps: list[ProcessingStep], page: np.ndarray, grid: LedgerGrid, layout: LedgerLayout,
               settings: PipelineSettings) -> list[RecordRegion]:
    return _timed(steps, "cells", settings.cells, lambda: _records(page, grid, layout, settings),
                  lambda rs: {"records": len(rs),
                              "filled_cells": sum(not c.is_empty for r in rs for c in r.cells),
                              "lines": sum(len(c.lines) for r in rs for c in r.cells)})


def _grid_summary(grid: LedgerGrid) -> dict[str, Any]:
    return {
        "method": grid.method,
        "table_box": grid.table.as_list(),
        "header_box": grid.header.as_list() if grid.header else None,
        "column_edges": grid.col_edges,
        "row_edges": grid.row_edges,
        "filled_rows": len(grid.filled_rows),
        "rulings_seen": {"horizontal": grid.detected_h, "vertical": grid.detected_v},
        # Stamps whose ink was kept out of the writing (centre and radius, page px).
        "stamps": [[round(s.x), round(s.y), round(s.radius)] for s in grid.stamps],
    }


def _records(page: np.ndarray, grid: LedgerGrid, layout: LedgerLayout,
             settings: PipelineSettings) -> list[RecordRegion]:
    gray = grid.masks.gray
    components = grid_components(grid, settings.cells)
    records: list[RecordRegion] = []
    for band in grid.filled_rows:
        boxes = [grid.cell_box(band, column) for column in range(len(layout.columns))]
        row_height = float(grid.row_edges[band + 1] - grid.row_edges[band])
        cells = cut_cells(gray, components, layout.keys, boxes, row_height, settings.cells)
        if all(cell.is_empty for cell in cells):
            continue  # only specks: not a record
        records.append(RecordRegion(row_index=len(records) + 1, box=grid.row_box(band), cells=cells))
    return records
