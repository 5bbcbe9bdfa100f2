"""Fit the field-confidence calibrator on synthetic labelled cells and store it as JSON.

    .venv/bin/python -m bench.fit_calibrator --pages 16 --seed 1001 --version v2 [--cells oracle,pipeline]
                                             [--families tuned|NAME,NAME --family-pages 8]
                                             [--cache FILE] [--out-dir DIR]

Pages are rendered with ``samples.render`` (fresh seed), cut into field cells
(``samples.fields``: ``--cells oracle`` at the true ink boxes, ``--cells pipeline`` by
the page pipeline ingest runs, i.e. what the calibrator meets in production), read with
AsterNet + field decoding; a proposal is "right" when it equals ``normalize(field_type, truth)``
exactly. As in ingest, only cells with ink that were read as something are calibrated (empty
cells and ink read as "" get fixed confidences). The logistic calibrator is fitted on 75% of the
pages and its ECE / high-band precision reported on the other 25%. Several cell sources
(``--cells oracle,pipeline``) are pooled, ``--pages`` pages of each: the calibrator then serves both
clean crops and the pipeline's cuts of skewed, noisy JPEG scans. ``--families`` adds pipeline cells
from ``--family-pages`` pages of each named generator family (samples/families.py, rendered as
``bench.robustness`` renders them, with the page's warnings): tuning families only, a held-out
family is refused (the robustness bench judges the calibrator on those). Use a seed other than the
robustness bench's (4242) so that no judged page is fitted on. The result goes to
``<out-dir>/<version>.json`` (default ``ocr/assets/calibration/``, loaded by ``load_calibrator``).
Each field also carries its page's sureness (``ocr.recognition.page_sure_readings``), as ingest
computes it. The shipped v4 is fitted with ``--cells ''`` (pipeline cells of the tuning families
only): oracle crops are cleaner than any page the pipeline cuts and would set the average page
sureness too high. A new calibrator needs a new page-depth floor: run ``bench.page_depth``.
Synthetic handwriting fonts are not real handwriting: refit on officials' confirmed fields.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.recognition import RENDERED_UNIT, unit_lexicon
from ocr.confidence import (
    CALIBRATION_DIR,
    FEATURE_NAMES,
    ConfidenceBands,
    expected_calibration_error,
    fit_logistic,
    reliability_table,
)
from ocr.fields.local_lexicon import LocalLexicon
from ocr.read.engines.asternet import get_asternet
from ocr.read.engines.base import LineLogProbs
from ocr.recognition import decode_cells, page_sure_readings, read_field
from samples.families import Family, select
from samples.fields import CELL_SOURCES, FieldSample, family_pipeline_pages, field_pages

FAMILY_SOURCE = "family-"  # cell source name prefix of a generator family's pipeline cells


@dataclass
class FieldEvidence:
    """One filled field of a page: where it is, its truth and the frame posteriors of its lines."""

    record: int
    key: str
    field_type: str
    expected: str
    lines: list[LineLogProbs]


@dataclass
class PageEvidence:
    fields: list[FieldEvidence]
    warnings: tuple[str, ...]  # the page pipeline's QA codes (none for oracle cells)


@dataclass(frozen=True)
class CellSource:
    """A named stream of labelled pages (an oracle/pipeline source or a family's pipeline cells)."""

    name: str
    pages: int

    def samples(self, seed: int) -> Iterator[list[FieldSample]]:
        if self.name.startswith(FAMILY_SOURCE):
            return family_pipeline_pages(select(self.name.removeprefix(FAMILY_SOURCE)), seed, self.pages)
        return field_pages(self.name, seed, self.pages)


def tuning_families(names: str) -> tuple[Family, ...]:
    """The families ``names`` selects (see samples.families.select); refuses held-out ones, which
    judge the calibrator and must never be fitted on."""
    try:
        families = select(names)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None
    if held_out := [f.name for f in families if f.held_out]:
        raise ValueError(f"held-out families cannot be fitted on: {', '.join(held_out)} "
                         f"(tuning families: {', '.join(f.name for f in select('tuned'))})")
    return families


def page_log_probs(seed: int, source: CellSource, cache: Path | None) -> list[PageEvidence]:
    """AsterNet frame posteriors of every filled field (the slow part; cached when asked).

    The cache is reused only when it was written for the same seed, page count and source.
    """
    key = {"seed": seed, "pages": source.pages, "cells": source.name, "format": 3}
    if cache is not None and cache.exists():
        try:
            stored = pickle.loads(cache.read_bytes())
        except (ModuleNotFoundError, AttributeError, EOFError, pickle.UnpicklingError) as exc:
            stored = None  # written by older code (a class since moved) or cut short: not data
            print(f"{cache} cannot be read ({exc}); recomputing")
        if isinstance(stored, dict) and stored.get("key") == key:
            return stored["pages"]
        print(f"{cache} was written for other data; recomputing")
    recognizer = get_asternet()
    out: list[PageEvidence] = []
    for index, samples in enumerate(source.samples(seed)):
        filled = [s for s in samples if not s.cell.is_empty]
        evidence = iter(recognizer.line_log_probs([line for s in filled for line in s.cell.lines]))
        fields = [FieldEvidence(s.record, s.key, s.field_type, s.expected, [next(evidence) for _ in s.cell.lines])
                  for s in filled]
        out.append(PageEvidence(fields, samples[0].page_warnings if samples else ()))
        print(f"{source.name} page {index + 1}: {len(filled)} fields {' '.join(out[-1].warnings)}", flush=True)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps({"key": key, "pages": out}))
    return out


def features_and_labels(pages: list[PageEvidence], local: LocalLexicon | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature matrix (FEATURE_NAMES), labels (1 = exactly right) and page index of every field
    read as something, with the features ingest computes (cell line count, page warnings, the
    page's sureness).

    ``local``: what ingest passes for the book (its unit's home area; see bench.recognition.unit_lexicon).
    """
    xs, ys, page_ids = [], [], []
    for index, page in enumerate(pages):
        # Decoded as ingest decodes a page: the page context (registration-number run) included.
        decoded = decode_cells([f.lines for f in page.fields], [f.field_type for f in page.fields], local,
                               places=[(f.record, f.key) for f in page.fields])
        readings = page_sure_readings([read_field(f.field_type, cell_decoded, local, len(f.lines), page.warnings)
                                       for f, cell_decoded in zip(page.fields, decoded, strict=True)])
        for f, reading in zip(page.fields, readings, strict=True):
            if reading is None or not reading.value:
                continue  # ingest never calibrates "" (see ocr.recognition.proposal_from_reading)
            xs.append(reading.features.vector())
            ys.append(float(reading.value == f.expected))
            page_ids.append(index)
    return np.stack(xs), np.asarray(ys), np.asarray(page_ids)


def _source_cache(cache: Path | None, source: str, sources: list[CellSource]) -> Path | None:
    """The cache file of one cell source: ``cache`` itself when there is one source."""
    if cache is None or len(sources) == 1:
        return cache
    return cache.with_name(f"{cache.stem}-{source}{cache.suffix}")


def cell_sources(cells: str, pages: int, families: tuple[Family, ...], family_pages: int) -> list[CellSource]:
    named = [CellSource(c, pages) for c in cells.split(",") if c]
    return named + [CellSource(FAMILY_SOURCE + f.name, family_pages) for f in families]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--version", default="v1")
    parser.add_argument("--cells", default="oracle",
                        help="comma-separated cell sources pooled: line crops at the true ink boxes (oracle) "
                             "and/or as the page pipeline cuts them (pipeline); '' for none")
    parser.add_argument("--families", default="",
                        help="pipeline cells from pages of these generator families too: 'tuned' or "
                             "comma-separated names (tuning families only; held-out ones are refused)")
    parser.add_argument("--family-pages", type=int, default=8, help="pages per family (with --families)")
    parser.add_argument("--unit", default=RENDERED_UNIT,
                        help=f"the book's unit as ingest knows it (default: {RENDERED_UNIT!r}; '' for none)")
    parser.add_argument("--cache", type=Path,
                        help="pickle of the frame posteriors (reused when present; one file per cell source, "
                             "named <stem>-<cells><suffix> when several are pooled)")
    parser.add_argument("--out-dir", type=Path, default=CALIBRATION_DIR,
                        help="where <version>.json goes (a trial fit: somewhere outside ocr/assets)")
    args = parser.parse_args(argv)

    if unknown := {c for c in args.cells.split(",") if c} - set(CELL_SOURCES):
        parser.error(f"unknown cell sources {sorted(unknown)}; choose from {sorted(CELL_SOURCES)}")
    try:
        families = tuning_families(args.families) if args.families else ()
    except ValueError as exc:
        parser.error(str(exc))
    sources = cell_sources(args.cells, args.pages, families, args.family_pages)
    if not sources:
        parser.error("no cells: give --cells and/or --families")
    started = time.perf_counter()
    local = unit_lexicon(args.unit)
    parts = [features_and_labels(page_log_probs(args.seed, s, _source_cache(args.cache, s.name, sources)), local)
             for s in sources]
    x, y, page_ids = (np.concatenate(column) for column in zip(*parts, strict=True))
    held_out = page_ids % 4 == 3  # every fourth page of each source (a family's pages run in turn)
    calibrator = fit_logistic(x[~held_out], y[~held_out], version=args.version)
    predicted = calibrator.predict(x[held_out])
    truth = y[held_out]
    high = predicted >= ConfidenceBands().high
    metrics = {
        "fields": int(y.size),
        "held_out_fields": int(truth.size),
        "exact_match": round(float(y.mean()), 4),
        "held_out_ece": round(expected_calibration_error(predicted, truth), 4),
        "held_out_high_band_share": round(float(high.mean()), 4),
        "held_out_high_band_precision": round(float(truth[high].mean()), 4) if high.any() else None,
    }
    described = {"oracle": "oracle line boxes", "pipeline": "cells cut by the page pipeline from noisy JPEG scans"}
    data = [described[c] for c in args.cells.split(",") if c]
    if families:
        data.append("cells cut by the page pipeline from pages of the tuning families "
                    + ", ".join(f.name for f in families))
    calibrator.trained_on = {
        "data": "synthetic pages (samples.render, handwriting fonts), " + " + ".join(data),
        "cells": args.cells,
        "families": ",".join(f.name for f in families),
        "seed": args.seed,
        "pages": args.pages,
        "family_pages": args.family_pages if families else 0,
        "fields_per_source": {s.name: int(part[1].size) for s, part in zip(sources, parts, strict=True)},
        "engine": "asternet + field decoding",
        "unit": args.unit,
        **metrics,
    }
    path = calibrator.save(args.out_dir)
    print(f"saved {path} in {time.perf_counter() - started:.0f} s")
    for key, value in metrics.items():
        print(f"  {key}: {value}")
    for name, weight in zip(FEATURE_NAMES, calibrator.weights, strict=True):
        print(f"  weight {name}: {weight:+.3f}")
    for row in reliability_table(predicted, truth):
        print(f"  {row['bin']}: n={row['n']} confidence={row['confidence']} accuracy={row['accuracy']}")


if __name__ == "__main__":
    main()
