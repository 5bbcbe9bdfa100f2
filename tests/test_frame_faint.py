"""Table frame with faint or lost outer rulings: the benchmark page (seed 60606, page 18, a ket_hon book
with faint rulings) whose two leftmost vertical rulings are weaker than 40% of the strongest.

The strong-ruling frame alone starts the table at the 4th printed column, so every field lands
a group of columns off; the frame must come from the template's column pattern instead, and a
table found too narrow must be reported by the page QA (writing beside the table).
"""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest

from ocr.image import page_qa
from ocr.image.deskew import compose, map_points
from ocr.image.imaging import ink_gray
from ocr.image.loading import load_images
from ocr.layout import table_qa
from ocr.layout.grid import LedgerGrid, column_frame, detect_grid, find_rulings, frame_lines, template_edges
from ocr.layout.page import analyze_page
from ocr.page_warnings import encode_warnings
from ocr.settings import GridSettings
from ocr.types import Box, PageAnalysis
from samples.page_scores import BOOK_TYPES, page_options
from samples.render import render_page_encoded
from workbench.book_types import get_book_type

SEED, INDEX = 60606, 18
BOOK_TYPE = BOOK_TYPES[INDEX % len(BOOK_TYPES)]
LAYOUT = get_book_type(BOOK_TYPE).layout


@cache
def _bench_page() -> tuple[PageAnalysis, dict]:
    """Page INDEX of the benchmark run ``bench.pipeline --seed SEED``, rendered as the benchmark does."""
    rng = random.Random(SEED * 1000 + INDEX)
    options = page_options(rng, INDEX)
    _, truth, data = render_page_encoded(BOOK_TYPE, rng, options)
    assert data is not None and options.ruling == "faint"
    image = load_images(data, f"page_{INDEX}.jpg")[0].image
    return analyze_page(image, LAYOUT), truth


@cache
def _grid() -> LedgerGrid:
    analysis, _ = _bench_page()
    return detect_grid(analysis.deskewed, LAYOUT)


def _truth_column_edges(analysis: PageAnalysis, truth: dict) -> np.ndarray:
    """x of every printed column edge (frame included) at mid-height, on the levelled page."""
    assert analysis.transform is not None
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    points = [(x, y + h / 2) for x, y, w, h in truth["column_boxes"]]
    x, y, w, h = truth["column_boxes"][-1]
    points.append((x + w, y + h / 2))
    return map_points(flat_to_page, np.array(points, dtype=np.float64))[:, 0]


def test_outer_rulings_are_fainter_than_the_strong_frame_cut():
    # The premise: the 40%-of-strongest frame misses the outer columns on this page.
    analysis, truth = _bench_page()
    _, v_peaks = find_rulings(ink_gray(analysis.deskewed), GridSettings())
    truth_edges = _truth_column_edges(analysis, truth)
    strong_left, _ = frame_lines(v_peaks)
    assert strong_left > truth_edges[2] + 20


def test_every_column_edge_is_found():
    analysis, truth = _bench_page()
    truth_edges = _truth_column_edges(analysis, truth)
    found = np.array(_grid().col_edges, dtype=np.float64)
    assert len(found) == len(LAYOUT.columns) + 1
    assert np.abs(found - truth_edges).max() < 12


def test_every_field_lands_in_its_own_cell():
    analysis, truth = _bench_page()
    assert analysis.transform is not None
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    assert len(analysis.records) == len(truth["records"])
    total = right = 0
    for record, record_truth in zip(analysis.records, truth["records"], strict=True):
        cells = {c.key: c.box for c in record.cells}
        for key, field in record_truth["fields"].items():
            for x, y, w, h in field["text_boxes"]:
                cx, cy = map_points(flat_to_page, np.array([[x + w / 2, y + h / 2]], dtype=np.float64))[0]
                box = cells[key]
                total += 1
                right += int(box.x <= cx < box.x + box.w and box.y <= cy < box.y + box.h)
    assert total > 100 and right == total


def test_page_found_in_full_raises_no_beside_table_warning():
    analysis, _ = _bench_page()
    assert not any(code.startswith("ink_") for code in encode_warnings(analysis.warnings))
    grid_step = next(s for s in analysis.steps if s.name == "grid")
    assert grid_step.result["ink_beside_table"]["left_share"] == 0


def test_table_found_too_narrow_is_reported():
    # The frame the strong rulings alone give (the old failure): three columns of writing lie
    # left of it.
    grid = _grid()
    _, v_peaks = find_rulings(grid.masks.gray, GridSettings())
    strong_left, strong_right = frame_lines(v_peaks)
    narrow = Box(round(strong_left), grid.table.y, round(strong_right - strong_left), grid.table.h)
    beside = table_qa.ink_beside_table(grid.masks.text, narrow)
    assert beside.left > 0.15 and beside.right == 0
    assert encode_warnings(beside.warnings()) == ["ink_left_of_table"]
    assert set(page_qa.WARNINGS_VI) >= {"ink_left_of_table", "ink_right_of_table"}


def test_column_frame_keeps_the_strong_frame_against_stray_outer_peaks():
    # A correctly ruled table plus faint stray peaks in both margins (notes, a fold): the
    # template's pattern does not fit a wider frame, so the strong frame stays.
    edges = template_edges(300.0, 2100.0, LAYOUT)
    peaks = [(float(x), 9.0) for x in edges] + [(120.0, 3.0), (2250.0, 3.0)]
    assert column_frame(sorted(peaks), LAYOUT) == pytest.approx((300.0, 2100.0))


def test_column_frame_widens_to_faint_outer_rulings():
    edges = template_edges(100.0, 2100.0, LAYOUT)
    strengths = [3.0, 3.5] + [9.0] * (len(edges) - 2)  # the two leftmost rulings are faint
    peaks = [(float(x), s) for x, s in zip(edges, strengths, strict=True)]
    assert frame_lines(peaks)[0] == edges[2]
    assert column_frame(peaks, LAYOUT) == pytest.approx((100.0, 2100.0))


def test_column_frame_restores_a_lost_outer_ruling():
    # The left frame ruling was not seen at all (e.g. dropped as the paper's edge): the strong
    # frame starts at the second ruling, and the template fitted to the rest puts it back.
    edges = template_edges(100.0, 2100.0, LAYOUT)
    peaks = [(float(x), 9.0) for x in edges[1:]]
    left, right = column_frame(peaks, LAYOUT)
    assert abs(left - 100.0) < 2 and right == pytest.approx(2100.0)
