"""Robustness by generator family: rows, cells, fields and confidence on layouts, hands and
degradations the pipeline was (tuning) or was not (held out) tuned on. Issue 13.

    .venv/bin/python -m bench.robustness [--pages-per-family 3] [--seed 4242]
                                         [--families all|held_out|tuned|NAME,NAME] [--no-ocr]
                                         [--calibrator VERSION] [--json OUT]

For each family of ``samples/families.py`` it renders fresh pages (book types in turn, JPEG scans)
and runs them as ingest does: ``ocr.pipeline.process_page`` on the decoded file, with the shipped
AsterNet model, the default calibrator (``--calibrator VERSION``: another registered one) and
the book unit's lexicon (``bench.recognition.unit_lexicon``) unless ``--no-ocr`` (page analysis
only). Rows are scored by ``bench.pipeline`` (a detected
record matches a truth row when each box holds the other's centre). Reported per family:
  rows recall / precision; cell assignment (share of truth text boxes inside the right cell of
  the right record); line count (cells cut into as many lines as were written); and with OCR,
  on the rows found: field exact match (proposal == normalize(field_type, truth)), the share of
  fields at confidence >= 0.9 and their precision, ECE (10 bins); and two failure classes of
  issue 13: `empty@.9` cells proposed "" at >= 0.9 whose truth has text (class 3), `list@.9`
  sex/ethnicity/nationality fields wrong at >= 0.9 (class 4). For the pooled lines it also prints
  the reliability bins and each field type's share, precision and ECE (where the error comes from).
Scored fields are every written field, and every cell with ink where nothing is written (as
bench.recognition). Two pooled lines follow: all tuning families, all synthetic held-out
families; `real_hands` (real handwritten lines in the place cells) stays on its own line, with a
second line scoring the real-handwriting cells alone. It is skipped, with the reason, when
../shared/real_lines is absent.
Cost: ~2 s to render and ~1 s to analyse a page, ~3 s more to read it (2 cores): the default
(8 families x 3 pages) takes about 3 min without and 6-8 min with OCR on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.recognition import RENDERED_UNIT, unit_lexicon
from ocr.confidence import (
    CALIBRATION_DIR,
    DEFAULT_CALIBRATION_VERSION,
    ConfidenceBands,
    expected_calibration_error,
    load_calibrator,
    reliability_table,
)
from ocr.fields.normalize import normalize
from ocr.image.loading import load_images
from ocr.page_warnings import encode_warnings
from ocr.pipeline import PageResult, process_page
from ocr.reader import Reader, build_reader
from samples.families import Family, select
from samples.fields import render_family_page
from samples.page_scores import match_truth_rows, score_page, summarise
from workbench.book_types import get_book_type

CLOSED_LISTS = ("sex", "ethnicity", "nationality")
HIGH = ConfidenceBands().high


@dataclass
class FieldScores:
    """Proposals on the rows found, against the truth."""

    confidence: list[float] = field(default_factory=list)
    right: list[bool] = field(default_factory=list)
    field_type: list[str] = field(default_factory=list)
    empty_high_with_text: int = 0  # failure class 3
    closed_list_wrong_high: int = 0  # failure class 4
    wrong_high: list[dict[str, Any]] = field(default_factory=list)  # the promises broken: what, where, how sure

    def add(self, other: FieldScores) -> None:
        self.confidence += other.confidence
        self.right += other.right
        self.field_type += other.field_type
        self.wrong_high += other.wrong_high
        self.empty_high_with_text += other.empty_high_with_text
        self.closed_list_wrong_high += other.closed_list_wrong_high


def score_fields(result: PageResult, truth: dict[str, Any], book_type: str,
                 only: set[tuple[int, str]] | None = None) -> FieldScores:
    """Scores of the fields on the rows found; `only`: just these (row_index, key) truth cells."""
    scores = FieldScores()
    types = {c.key: c.field_type for c in get_book_type(book_type).columns}
    records = result.analysis.records
    for t, d in match_truth_rows(result.analysis, truth).items():
        cells = {c.key: c for c in records[d].cells}
        proposals = result.proposals[d]
        for key, truth_field in truth["records"][t]["fields"].items():
            if only is not None and (truth["records"][t]["row_index"], key) not in only:
                continue
            expected = normalize(types[key], truth_field["value"])
            cell = cells.get(key)
            if not expected and (cell is None or cell.is_empty):
                continue  # nothing written, nothing found: trivially right (as bench.recognition)
            proposal = proposals.get(key)
            value, confidence = (proposal.value, proposal.confidence) if proposal else ("", 0.0)
            right = value == expected
            scores.confidence.append(float(confidence))
            scores.right.append(right)
            scores.field_type.append(types[key])
            high = confidence >= HIGH
            scores.empty_high_with_text += int(high and not value and bool(expected))
            scores.closed_list_wrong_high += int(high and not right and types[key] in CLOSED_LISTS)
            if high and not right:
                scores.wrong_high.append({"row": truth["records"][t]["row_index"], "key": key,
                                          "field_type": types[key], "truth": expected, "proposal": value,
                                          "confidence": round(float(confidence), 3)})
    return scores


def field_summary(scores: FieldScores) -> dict[str, Any]:
    conf, right = np.asarray(scores.confidence, float), np.asarray(scores.right, float)
    if not conf.size:
        return {"fields": 0}
    high = conf >= HIGH
    kinds = np.asarray(scores.field_type)
    return {
        "fields": int(conf.size),
        "exact_match": float(right.mean()),
        "high_share": float(high.mean()),
        "high_precision": float(right[high].mean()) if high.any() else None,
        "ece": expected_calibration_error(conf, right),
        "empty_high_with_text": scores.empty_high_with_text,
        "closed_list_wrong_high": scores.closed_list_wrong_high,
        # Where the calibration error comes from: the bins, and each field type on its own.
        "reliability": reliability_table(conf, right),
        "by_type": {t: _type_summary(conf[kinds == t], right[kinds == t]) for t in sorted(set(scores.field_type))},
    }


def _type_summary(conf: np.ndarray, right: np.ndarray) -> dict[str, Any]:
    high = conf >= HIGH
    return {"fields": int(conf.size), "exact_match": float(right.mean()), "high_share": float(high.mean()),
            "high_precision": float(right[high].mean()) if high.any() else None,
            "ece": expected_calibration_error(conf, right)}


def run_page(f: Family, index: int, seed: int, reader: Reader | None
             ) -> tuple[dict[str, Any], FieldScores, FieldScores]:
    """Render one page of the family, run the pipeline on its JPEG (``reader`` None: page analysis
    only, --no-ocr), score it: the page's row, its field scores, and those of the cells holding real
    handwriting alone."""
    page = render_family_page(f, index, seed)
    book_type, truth = page.book_type, page.truth
    start, cpu_start = time.perf_counter(), time.process_time()
    image = load_images(page.data, f"{f.name}_{index}.jpg")[0].image
    result = process_page(image, get_book_type(book_type).layout, reader)
    row = score_page(result.analysis, truth)
    row.update(family=f.name, index=index, book_type=book_type, warnings=encode_warnings(result.analysis.warnings),
               seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu_start)
    fields, real = FieldScores(), FieldScores()
    if reader is not None:
        fields = score_fields(result, truth, book_type)
        real_cells = {(r, k) for r, k in truth.get("variation", {}).get("real_cells", [])}
        real = score_fields(result, truth, book_type, real_cells) if real_cells else real
    row["fields"] = field_summary(fields)
    return row, fields, real


def group_summary(rows: list[dict[str, Any]], fields: FieldScores) -> dict[str, Any]:
    return {**summarise(rows), **field_summary(fields)}


def _pct(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1%}"  # NaN: nothing to count


def markdown(summaries: dict[str, dict[str, Any]], roles: dict[str, str], ocr: bool) -> str:
    head = "| family | role | pages | rows recall | rows precision | cell assignment | line count |"
    rule = "|---|---|---|---|---|---|---|"
    if ocr:
        head += " fields exact | >=0.9 share | >=0.9 precision | ECE | empty@.9 with text | list wrong@.9 |"
        rule += "---|---|---|---|---|---|"
    lines = [head, rule]
    for name, s in summaries.items():
        line = (f"| {name} | {roles[name]} | {s['pages']} | {_pct(s['row_recall'])} | {_pct(s['row_precision'])} "
                f"| {_pct(s['cell_assignment'])} | {_pct(s['line_count'])} |")
        if ocr:
            if s.get("fields"):
                line += (f" {_pct(s['exact_match'])} | {_pct(s['high_share'])} | {_pct(s['high_precision'])} "
                         f"| {s['ece']:.3f} | {s['empty_high_with_text']} | {s['closed_list_wrong_high']} |")
            else:
                line += " - | - | - | - | - | - |"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages-per-family", type=int, default=3)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--families", default="all", help="all | held_out | tuned | comma-separated names")
    parser.add_argument("--no-ocr", action="store_true", help="page analysis only (rows and cells)")
    parser.add_argument("--calibrator", default=DEFAULT_CALIBRATION_VERSION,
                        help=f"confidence calibrator version (default {DEFAULT_CALIBRATION_VERSION}; "
                             "one of ocr/assets/calibration/*.json)")
    parser.add_argument("--json", type=Path, help="write per-page rows and the summaries here")
    args = parser.parse_args(argv)
    if not (CALIBRATION_DIR / f"{args.calibrator}.json").exists():
        parser.error(f"no calibrator {args.calibrator!r} in {CALIBRATION_DIR}")

    calibrator = load_calibrator(args.calibrator)
    # The shipped AsterNet model, read as ingest reads a book of the rendered pages' unit.
    reader = None if args.no_ocr else build_reader(local=unit_lexicon(RENDERED_UNIT), calibrator=calibrator)
    print(f"calibrator {calibrator.version}", flush=True)
    rows: list[dict[str, Any]] = []
    per_family: dict[str, tuple[list[dict[str, Any]], FieldScores]] = {}
    real_only: dict[str, FieldScores] = {}
    roles: dict[str, str] = {}
    for f in select(args.families):
        if (why := f.unavailable()) is not None:
            print(f"skip {f.name}: {why}", flush=True)
            continue
        roles[f.name] = "real, held out" if f.real else ("held out" if f.held_out else "tuning")
        family_rows, family_fields, family_real = [], FieldScores(), FieldScores()
        for index in range(args.pages_per_family):
            row, fields, real = run_page(f, index, args.seed, reader)
            family_rows.append(row)
            for mistake in fields.wrong_high:
                mistake.update(family=f.name, page=index)
            family_fields.add(fields)
            family_real.add(real)
            print(f"{f.name:17s} {index:2d} {row['book_type']:14s} rows {row['matched_rows']}/{row['truth_rows']} "
                  f"(detected {row['detected_rows']}) boxes {row['text_boxes_right']}/{row['text_boxes']} "
                  f"{row['seconds']:.1f}s {' '.join(row['warnings'])}", flush=True)
        per_family[f.name] = (family_rows, family_fields)
        if f.real:
            real_only[f.name] = family_real
        rows += family_rows

    summaries = {name: group_summary(r, s) for name, (r, s) in per_family.items()}
    for name, real in real_only.items():  # the real lines alone (the rest of the page is font handwriting)
        summaries[f"{name}: real cells only"] = group_summary(per_family[name][0], real)
        roles[f"{name}: real cells only"] = roles[name]
    for pool, members in (("tuning (pooled)", [n for n, role in roles.items() if role == "tuning"]),
                          ("held out (pooled, synthetic)", [n for n, role in roles.items() if role == "held out"])):
        if members:
            pooled = FieldScores()
            for name in members:
                pooled.add(per_family[name][1])
            summaries[pool] = group_summary([r for n in members for r in per_family[n][0]], pooled)
            roles[pool] = "+".join(members)
    print()
    print(markdown(summaries, roles, ocr=reader is not None))
    for name, s in summaries.items():
        if "pooled" in name and s.get("fields"):
            print(f"\n{name}: reliability " + "; ".join(
                f"{r['bin']} n={r['n']} conf={r['confidence']} right={r['accuracy']}" for r in s["reliability"]))
            print(f"{name}: by field type " + "; ".join(
                f"{t} n={v['fields']} exact={_pct(v['exact_match'])} >=0.9 {_pct(v['high_share'])} "
                f"at {_pct(v['high_precision'])} ECE={v['ece']:.3f}" for t, v in s["by_type"].items()))
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "ocr": reader is not None,
                                         "calibrator": args.calibrator, "summaries": summaries,
                                         "pages": rows,
                                         "wrong_high": [m for _, s in per_family.values() for m in s.wrong_high]},
                                        indent=1, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
