"""Benchmark of the page pipeline (load -> QA -> crop/deskew -> grid -> cells) on fresh synthetic pages.

Run:  .venv/bin/python bench/pipeline.py --pages 24 --seed 90210 [--json out.json]

Pages come from samples.render_page_encoded across the four book types, with the generator's
realistic random defects (skew up to +-5 deg, stains, uneven light, blur, noise, JPEG q85,
scanner bed or white lid, partly filled pages, 8-12 rows). Ruling styles rotate normal, normal,
faint, none, so faint and no-ruling pages are reported separately. --turned-every N also scans
every N-th page turned by 90/180/270 degrees (QA must detect and undo it). Use a seed you did
not tune on.

Measured per page, against the generator's truth:
  * angle error: |deskew_angle - (-skew_deg)| (truth skew is the counter-clockwise turn of the
    page on the bed; the pipeline reports the counter-clockwise turn it applied to level it);
  * rows: truth row boxes (flat page) are mapped through flat_to_scan and then the pipeline's
    transform into deskewed coordinates; a detected record matches a truth row when each box
    contains the other's centre (one to one). Recall = matched / truth rows, precision =
    matched / detected records;
  * cell assignment: share of truth text boxes whose centre falls in the cell of the right key
    of the record matched to the right truth row;
  * cell emptiness: share of cells (of matched records) whose is_empty agrees with the truth value;
  * line count: share of filled cells whose number of line crops equals the truth line count;
  * seconds per page for load + analyze_page (wall median and max, and CPU median: on a
    shared machine the CPU time is the fairer number), single process.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr.deskew import compose, map_points  # noqa: E402
from ocr.loading import load_images  # noqa: E402
from ocr.page import analyze_page  # noqa: E402
from ocr.types import Box, PageAnalysis  # noqa: E402
from samples.render import PageOptions, render_page_encoded  # noqa: E402
from workbench.book_types import get_book_type  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--json", type=Path, help="write per-page results and the summary here")
    parser.add_argument("--turned-every", type=int, default=0,
                        help="scan every N-th page turned by 90/180/270 degrees (0 = never)")
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    for index in range(args.pages):
        rng = random.Random(args.seed * 1000 + index)
        book_type = BOOK_TYPES[index % len(BOOK_TYPES)]
        options = page_options(rng, index, args.turned_every)
        _, truth, data = render_page_encoded(book_type, rng, options)
        assert data is not None
        layout = get_book_type(book_type).layout
        start, cpu_start = time.perf_counter(), time.process_time()
        image = load_images(data, f"page_{index}.jpg")[0].image
        analysis = analyze_page(image, layout)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        row = score_page(analysis, truth)
        row.update(index=index, book_type=book_type, ruling=options.ruling, seconds=seconds, cpu_seconds=cpu_seconds,
                   skew=truth["skew_deg"], warnings=analysis.warnings)
        rows.append(row)
        print(
            f"{index:3d} {book_type:14s} {options.ruling:6s} turn {options.rotate:3d} skew {truth['skew_deg']:+6.2f} "
            f"err {row['angle_error']:.3f}  rows {row['matched_rows']}/{row['truth_rows']} "
            f"(detected {row['detected_rows']})  boxes {row['text_boxes_right']}/{row['text_boxes']}  "
            f"{seconds:.2f}s (cpu {cpu_seconds:.2f}s) {' '.join(analysis.warnings)}",
            flush=True,
        )
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["ruling"]].append(row)
    summary = {"all": summarise(rows), **{name: summarise(group) for name, group in sorted(groups.items())}}
    print()
    header = f"{'subset':8s} {'pages':>5s} {'angle mean':>10s} {'angle max':>9s} {'recall':>7s} {'precis.':>7s} " \
             f"{'cells':>7s} {'empty':>7s} {'lines':>7s} {'s/page':>6s} {'s max':>6s} {'cpu s':>6s}"
    print(header)
    for name, s in summary.items():
        print(
            f"{name:8s} {s['pages']:5d} {s['angle_error_mean']:10.3f} {s['angle_error_max']:9.3f} "
            f"{s['row_recall']:7.2%} {s['row_precision']:7.2%} {s['cell_assignment']:7.2%} "
            f"{s['cell_emptiness']:7.2%} {s['line_count']:7.2%} {s['seconds_median']:6.2f} {s['seconds_max']:6.2f} "
            f"{s['cpu_seconds_median']:6.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "pages": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
