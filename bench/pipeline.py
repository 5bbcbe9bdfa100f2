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
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocr.image.loading import load_images  # noqa: E402
from ocr.layout.page import analyze_page  # noqa: E402
from ocr.page_warnings import encode_warnings  # noqa: E402
from samples.page_scores import BOOK_TYPES, page_options, score_page, summarise  # noqa: E402
from samples.render import render_page_encoded  # noqa: E402
from workbench.book_types import get_book_type  # noqa: E402


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
                   skew=truth["skew_deg"], warnings=encode_warnings(analysis.warnings))
        rows.append(row)
        print(
            f"{index:3d} {book_type:14s} {options.ruling:6s} turn {options.rotate:3d} skew {truth['skew_deg']:+6.2f} "
            f"err {row['angle_error']:.3f}  rows {row['matched_rows']}/{row['truth_rows']} "
            f"(detected {row['detected_rows']})  boxes {row['text_boxes_right']}/{row['text_boxes']}  "
            f"{seconds:.2f}s (cpu {cpu_seconds:.2f}s) {' '.join(encode_warnings(analysis.warnings))}",
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
