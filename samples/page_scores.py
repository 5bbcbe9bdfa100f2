"""The page pipeline scored against the generator's truth, shared by the benchmarks and the tests.

``page_options`` draws the benchmark's page mix (ruling styles rotate normal, normal, faint, none;
8-12 rows, partly filled pages, optionally every N-th page turned). ``match_truth_rows`` pairs the
truth rows with the records the pipeline found and ``score_page`` / ``summarise`` measure deskew,
rows, cell assignment, cell emptiness and line counts (see bench/pipeline.py for the definitions).
"""

from __future__ import annotations

import random
import statistics
from typing import Any

import numpy as np

from ocr.image.deskew import compose, map_points
from ocr.types import Box, PageAnalysis
from samples.render import PageOptions

BOOK_TYPES = ("khai_sinh", "khai_tu", "ket_hon", "nuoi_con_nuoi")
RULINGS = ("normal", "normal", "faint", "none")


def page_options(rng: random.Random, index: int, turned_every: int = 0) -> PageOptions:
    rows = rng.choice([8, 10, 10, 10, 12])
    turned = turned_every and index % turned_every == turned_every - 1
    return PageOptions(
        ruling=RULINGS[index % len(RULINGS)],
        border=rng.random() < 0.8,
        rows=rows,
        filled_rows=rng.choice([None, None, rng.randint(2, rows - 1)]),
        rotate=rng.choice([90, 180, 270]) if turned else 0,
    )


def _box_to_deskewed(box: list[int], flat_to_deskewed: np.ndarray) -> Box:
    x, y, w, h = box
    corners = map_points(flat_to_deskewed, np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]))
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return Box(round(x0), round(y0), round(x1 - x0), round(y1 - y0))


def _centre(box: Box) -> tuple[float, float]:
    return box.x + box.w / 2, box.y + box.h / 2


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box.x <= point[0] < box.x + box.w and box.y <= point[1] < box.y + box.h


def truth_to_deskewed(analysis: PageAnalysis, truth: dict[str, Any]) -> np.ndarray:
    """Affine map from the truth's flat page coordinates to the pipeline's deskewed page."""
    assert analysis.transform is not None  # analyze_page always sets it
    return compose(analysis.transform, np.array(truth["flat_to_scan"], dtype=np.float64))


def match_truth_rows(analysis: PageAnalysis, truth: dict[str, Any]) -> dict[int, int]:
    """Truth record index -> detected record index, one to one.

    A detected record matches a truth row when each box contains the other's centre (on the
    deskewed page).
    """
    flat_to_deskewed = truth_to_deskewed(analysis, truth)
    truth_rows = [_box_to_deskewed(r["box"], flat_to_deskewed) for r in truth["records"]]
    matches: dict[int, int] = {}
    used: set[int] = set()
    for t, truth_box in enumerate(truth_rows):
        for d, record in enumerate(analysis.records):
            if d in used:
                continue
            if _contains(record.box, _centre(truth_box)) and _contains(truth_box, _centre(record.box)):
                matches[t] = d
                used.add(d)
                break
    return matches


def score_page(analysis: PageAnalysis, truth: dict[str, Any]) -> dict[str, Any]:
    flat_to_deskewed = truth_to_deskewed(analysis, truth)
    matches = match_truth_rows(analysis, truth)
    boxes_total = boxes_right = 0
    cells_total = cells_right = 0
    lines_total = lines_right = 0
    for t, record_truth in enumerate(truth["records"]):
        detected = analysis.records[matches[t]] if t in matches else None
        cells = {c.key: c for c in detected.cells} if detected else {}
        for key, field in record_truth["fields"].items():
            for text_box in field["text_boxes"]:
                boxes_total += 1
                centre = _centre(_box_to_deskewed(text_box, flat_to_deskewed))
                boxes_right += int(key in cells and _contains(cells[key].box, centre))
            if detected is None:
                continue
            cell = cells.get(key)
            cells_total += 1
            filled = bool(field["value"])
            cells_right += int(cell is not None and cell.is_empty != filled)
            if filled and field["text_boxes"] and cell is not None:
                lines_total += 1
                lines_right += int(len(cell.lines) == len(field["text_boxes"]))
    return {
        "angle_error": abs(analysis.deskew_angle + truth["skew_deg"]),
        "truth_rows": len(truth["records"]),
        "detected_rows": len(analysis.records),
        "matched_rows": len(matches),
        "text_boxes": boxes_total,
        "text_boxes_right": boxes_right,
        "cells": cells_total,
        "cells_right": cells_right,
        "line_cells": lines_total,
        "line_cells_right": lines_right,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def ratio(num: str, den: str) -> float:
        total = sum(r[den] for r in rows)
        return sum(r[num] for r in rows) / total if total else float("nan")

    errors = [r["angle_error"] for r in rows]
    seconds = [r["seconds"] for r in rows]
    cpu_seconds = [r["cpu_seconds"] for r in rows]
    return {
        "pages": len(rows),
        "angle_error_mean": statistics.fmean(errors),
        "angle_error_max": max(errors),
        "row_recall": ratio("matched_rows", "truth_rows"),
        "row_precision": ratio("matched_rows", "detected_rows"),
        "cell_assignment": ratio("text_boxes_right", "text_boxes"),
        "cell_emptiness": ratio("cells_right", "cells"),
        "line_count": ratio("line_cells_right", "line_cells"),
        "seconds_median": statistics.median(seconds),
        "seconds_max": max(seconds),
        "cpu_seconds_median": statistics.median(cpu_seconds),
    }
