"""Ledger grid detection on synthetic scans: ruled, faint/broken, unruled, and a rough scan."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ocr.image.deskew import compose, deskew_page, map_points
from ocr.layout.grid import LedgerGrid, detect_grid, match_column_rulings, match_columns
from samples import PageOptions, render_page
from workbench.book_types import get_book_type

CASES = {
    "normal": ("khai_sinh", 11, PageOptions(ruling="normal", rows=10, filled_rows=7)),
    "faint": ("ket_hon", 12, PageOptions(ruling="faint", rows=12, filled_rows=9)),
    "none": ("khai_tu", 13, PageOptions(ruling="none", rows=10, filled_rows=6)),
    "rough": ("nuoi_con_nuoi", 14, PageOptions(ruling="normal", noise=7.0, blur=1.1, light=0.4, stains=6,
                                               jpeg_quality=60, filled_rows=8)),
}


@cache
def _analysed(case: str) -> tuple[LedgerGrid, dict, np.ndarray]:
    book_type, seed, options = CASES[case]
    image, truth = render_page(book_type, seed, options)
    levelled = deskew_page(image)
    grid = detect_grid(levelled.image, get_book_type(book_type).layout)
    flat_to_page = compose(levelled.transform, np.array(truth["flat_to_scan"]))
    return grid, truth, flat_to_page


def _centre(box: list[int], transform: np.ndarray) -> np.ndarray:
    x, y, w, h = box
    return map_points(transform, np.array([[x + w / 2, y + h / 2]]))[0]


@pytest.mark.parametrize("case", list(CASES))
def test_one_filled_row_band_per_written_record(case: str):
    grid, truth, flat_to_page = _analysed(case)
    assert len(grid.filled_rows) == len(truth["records"])
    for band, record in zip(grid.filled_rows, truth["records"], strict=True):
        cx, cy = _centre(record["box"], flat_to_page)
        box = grid.row_box(band)
        assert box.y <= cy < box.y + box.h


@pytest.mark.parametrize("case", list(CASES))
def test_handwriting_lands_in_the_right_column(case: str):
    grid, truth, flat_to_page = _analysed(case)
    keys = get_book_type(CASES[case][0]).keys
    total = right = 0
    for band, record in zip(grid.filled_rows, truth["records"], strict=True):
        for key, field in record["fields"].items():
            column = keys.index(key)
            cell = grid.cell_box(band, column)
            for text_box in field["text_boxes"]:
                total += 1
                cx, cy = _centre(text_box, flat_to_page)
                right += int(cell.x <= cx < cell.x + cell.w and cell.y <= cy < cell.y + cell.h)
    assert total > 40
    assert right / total >= 0.98


@pytest.mark.parametrize("case", list(CASES))
def test_header_box_matches_the_printed_header(case: str):
    grid, truth, flat_to_page = _analysed(case)
    x, y, w, h = truth["header_box"]
    (x0, y0), (x1, y1) = map_points(flat_to_page, np.array([[x, y], [x + w, y + h]]))
    header = grid.header
    assert header is not None
    tolerance = 0.2 * (y1 - y0)
    assert abs(header.y + header.h - y1) < tolerance  # the header's bottom = first data row's top
    assert abs(header.x - x0) < 25 and abs(header.x + header.w - x1) < 25


def test_method_reflects_the_rulings():
    assert _analysed("normal")[0].method == "rulings"
    assert _analysed("none")[0].method == "text_lines"


def test_match_columns_tolerates_missing_and_extra_rulings():
    layout = get_book_type("khai_sinh").layout
    widths = np.array([c.width for c in layout.columns])
    edges = 100 + 2000 * np.concatenate([[0], np.cumsum(widths)]) / widths.sum()
    detected = list(edges[1:-1] + 3.0)  # every inner ruling, slightly off the width hints
    del detected[4]  # one ruling faded away entirely
    detected.insert(2, (edges[2] + edges[3]) / 2 + 40)  # and a long pen stroke looks like one
    matched = match_columns(detected, 100, 2100, layout)
    assert len(matched) == len(layout.columns) + 1
    assert matched[0] == 100 and matched[-1] == 2100
    for i, edge in enumerate(matched[1:-1], start=1):
        # The missing one is placed between its found neighbours in the hinted proportions.
        assert abs(edge - (edges[i] + 3.0)) <= 1.5


def test_visible_rulings_win_over_the_width_hints():
    """Printed proportions differ between print runs (+-35% a column): every ruling seen is used
    where it is, and only the missing one comes from the hints, between its neighbours."""
    layout = get_book_type("khai_sinh").layout
    rng = np.random.default_rng(3)
    widths = np.array([c.width for c in layout.columns]) * rng.uniform(0.65, 1.35, len(layout.columns))
    edges = 100 + 2000 * np.concatenate([[0], np.cumsum(widths)]) / widths.sum()
    match = match_column_rulings(list(edges[1:-1]), 100, 2100, layout)
    assert np.abs(np.array(match.edges) - edges).max() <= 1
    assert all(match.seen) and match.extra == 0
    detected = [e for i, e in enumerate(edges[1:-1], start=1) if i != 6]
    match = match_column_rulings(detected, 100, 2100, layout)
    assert match.guessed == 1 and not match.seen[5]
    found = np.delete(np.array(match.edges), 6)
    assert np.abs(found - np.delete(edges, 6)).max() <= 1
    assert edges[5] < match.edges[6] < edges[7]


def test_row_pitch_survives_missing_faint_rulings():
    from ocr.layout.grid import _row_pitch

    pitch = 117.6
    top, header_bottom = 150.0, 300.0
    # Only rows 3, 4, 7, 8 and 10 kept their rulings (the rest faded), as on a worn faint book.
    kept = [header_bottom + k * pitch for k in (0, 3, 4, 7, 8, 10)]
    assert abs(_row_pitch([top, *kept], min_pitch=40) - pitch) < 1.0
    # Every other ruling missing: ambiguous from the rulings alone; the number lines settle it.
    every_other = [header_bottom + k * pitch for k in (0, 2, 4, 6, 8, 10)]
    assert abs(_row_pitch([top, *every_other], min_pitch=40, hint=118.5) - pitch) < 1.0
