"""analyze_page end to end on synthetic scans: records, cells, audit steps, QA warnings."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ocr.image.deskew import compose, map_points
from ocr.image.page_qa import dhash, duplicate_of, hamming, is_blank, phash
from ocr.layout.page import PipelineSettings, analyze_page
from ocr.page_warnings import encode_warnings
from ocr.settings import QASettings
from ocr.types import PageAnalysis
from samples import PageOptions, render_page
from workbench.book_types import get_book_type

BOOK = "khai_tu"
LAYOUT = get_book_type(BOOK).layout


@cache
def _page(seed: int, **options) -> tuple[np.ndarray, dict]:
    return render_page(BOOK, seed, PageOptions(**options))


@cache
def _analysis(seed: int, **options) -> tuple[PageAnalysis, dict]:
    image, truth = _page(seed, **options)
    return analyze_page(image, LAYOUT), truth


def test_records_and_cells_follow_the_template():
    analysis, truth = _analysis(21, filled_rows=6)
    assert [r.row_index for r in analysis.records] == [1, 2, 3, 4, 5, 6]
    assert encode_warnings(analysis.warnings) == []
    assert abs(analysis.deskew_angle + truth["skew_deg"]) < 0.2
    for record, record_truth in zip(analysis.records, truth["records"], strict=True):
        assert [c.key for c in record.cells] == LAYOUT.keys
        for cell in record.cells:
            field = record_truth["fields"][cell.key]
            assert cell.is_empty == (not field["value"]), (record.row_index, cell.key)
            if cell.is_empty:
                assert cell.lines == []
                continue
            assert 1 <= len(cell.lines) <= 3
            for line in cell.lines:
                assert line.dtype == np.uint8 and line.ndim == 2
                assert line.shape[0] >= 12 and line.shape[1] >= 8
                # Paper whitened, ink keeps its own (darker than paper) contrast.
                assert line.max() == 255 and line.min() < 230
                assert np.median(line) > 200


def test_truth_text_lands_in_its_record_cell():
    analysis, truth = _analysis(21, filled_rows=6)
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    total = right = 0
    for record, record_truth in zip(analysis.records, truth["records"], strict=True):
        cells = {c.key: c for c in record.cells}
        for key, field in record_truth["fields"].items():
            for x, y, w, h in field["text_boxes"]:
                cx, cy = map_points(flat_to_page, np.array([[x + w / 2, y + h / 2]]))[0]
                box = cells[key].box
                total += 1
                right += int(box.x <= cx < box.x + box.w and box.y <= cy < box.y + box.h)
    assert right / total >= 0.98


def test_two_line_cells_give_two_line_crops():
    analysis, truth = _analysis(21, filled_rows=6)
    agree = total = 0
    for record, record_truth in zip(analysis.records, truth["records"], strict=True):
        for cell in record.cells:
            boxes = record_truth["fields"][cell.key]["text_boxes"]
            if boxes:
                total += 1
                agree += int(len(cell.lines) == len(boxes))
    assert agree / total >= 0.9


def test_steps_form_an_audit_trail():
    analysis, _ = _analysis(21, filled_rows=6)
    names = [s.name for s in analysis.steps]
    assert names == ["qa_blank", "qa_orientation", "deskew", "qa_upside_down", "grid", "cells"]
    deskew = analysis.steps[names.index("deskew")]
    assert "max_angle_deg" in deskew.settings and "angle_deg" in deskew.result
    grid = analysis.steps[names.index("grid")]
    assert len(grid.result["column_edges"]) == len(LAYOUT.columns) + 1
    assert all(s.seconds >= 0 for s in analysis.steps)
    assert analysis.transform is not None and analysis.transform.shape == (2, 3)
    assert analysis.header_box is not None


@pytest.mark.parametrize("border", [True, False])
def test_blank_page_warns_and_yields_no_records(border: bool):
    image, _ = _page(22, blank=True, border=border)
    assert is_blank(image)
    analysis = analyze_page(image, LAYOUT)
    assert encode_warnings(analysis.warnings) == ["blank"]
    assert analysis.records == []


def test_printed_page_without_entries_is_not_blank_but_has_no_records():
    image, _ = _page(24, filled_rows=0)
    assert not is_blank(image)
    analysis = analyze_page(image, LAYOUT)
    assert analysis.records == [] and "blank" not in encode_warnings(analysis.warnings)


def test_written_page_is_not_blank():
    image, _ = _page(21, filled_rows=6)
    assert not is_blank(image)


@pytest.mark.parametrize(
    ("rotate", "codes"),
    [(90, ["rotated_90", "auto_rotated:90"]), (180, ["upside_down", "auto_rotated:180"]),
     (270, ["rotated_270", "auto_rotated:270"])],
)
def test_turned_pages_are_detected_and_turned_back(rotate: int, codes: list[str]):
    analysis, truth = _analysis(23, rotate=rotate, filled_rows=5)
    assert encode_warnings(analysis.warnings)[:2] == codes
    assert len(analysis.records) == 5
    # The transform accounts for the turn: truth rows map onto the detected records.
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    for record, record_truth in zip(analysis.records, truth["records"], strict=True):
        x, y, w, h = record_truth["box"]
        cx, cy = map_points(flat_to_page, np.array([[x + w / 2, y + h / 2]]))[0]
        box = record.box
        assert box.x <= cx < box.x + box.w and box.y <= cy < box.y + box.h


def test_turned_page_is_only_reported_when_auto_rotate_is_off():
    image, _ = _page(23, rotate=180, filled_rows=5)
    settings = PipelineSettings(qa=QASettings(auto_rotate=False))
    analysis = analyze_page(image, LAYOUT, settings)
    assert "upside_down" in encode_warnings(analysis.warnings)
    assert not any(w.startswith("auto_rotated") for w in encode_warnings(analysis.warnings))


def test_perceptual_hashes_find_the_same_page_rescanned():
    first, _ = _page(21, filled_rows=6)
    other, _ = _page(23, filled_rows=5)
    rescanned = np.clip(first.astype(np.int16) + 12, 0, 255).astype(np.uint8)  # brighter rescan
    for page_hash in (dhash, phash):
        assert hamming(page_hash(first), page_hash(rescanned)) <= 6
        assert hamming(page_hash(first), page_hash(other)) > 6
    seen = {"page_1.jpg": dhash(first), "page_2.jpg": dhash(other)}
    assert duplicate_of(dhash(rescanned), seen) == "page_1.jpg"
    assert duplicate_of(dhash(np.full_like(first, 128)), seen) is None
