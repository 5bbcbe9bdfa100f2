"""Fit the field-confidence calibrator on synthetic labelled cells and store it as JSON.

    .venv/bin/python -m bench.fit_calibrator --pages 16 --seed 1001 --version v2 [--cells oracle,pipeline]
                                             [--cache FILE] [--out-dir DIR]

Pages are rendered with ``samples.render`` (fresh seed), cut into field cells
(``bench.synthetic_fields``: ``--cells oracle`` at the true ink boxes, ``--cells pipeline`` by
the page pipeline ingest runs, i.e. what the calibrator meets in production), read with
AsterNet + field decoding; a proposal is "right" when it equals ``normalize(field_type, truth)``
exactly. As in ingest, only cells with ink that were read as something are calibrated (empty
cells and ink read as "" get fixed confidences). The logistic calibrator is fitted on 75% of the
pages and its ECE / high-band precision reported on the other 25%. Several cell sources
(``--cells oracle,pipeline``) are pooled, ``--pages`` pages of each: the calibrator then serves both
clean crops and the pipeline's cuts of skewed, noisy JPEG scans. The result goes to
``<out-dir>/<version>.json`` (default ``ocr/assets/calibration/``, loaded by ``load_calibrator``).
Synthetic handwriting fonts are not real handwriting: refit on officials' confirmed fields.
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import numpy as np

from bench.recognition import RENDERED_UNIT, unit_lexicon
from bench.synthetic_fields import CELL_SOURCES, field_pages
from ocr.confidence import (
    CALIBRATION_DIR,
    ConfidenceBands,
    expected_calibration_error,
    fit_logistic,
    reliability_table,
)
from ocr.engines.asternet import get_asternet
from ocr.engines.base import LineLogProbs
from ocr.fields.local_lexicon import LocalLexicon
from ocr.recognition import decode_cells, read_field

# (record index, field key, field_type, expected, line log-probs) of each filled field of a page
PageLogProbs = list[tuple[int, str, str, str, list[LineLogProbs]]]


def page_log_probs(seed: int, pages: int, cache: Path | None, cells: str = "oracle") -> list[PageLogProbs]:
    """AsterNet frame posteriors of every filled field (the slow part; cached when asked).

    The cache is reused only when it was written for the same seed, page count and cells.
    """
    key = {"seed": seed, "pages": pages, "cells": cells, "format": 2}
    if cache is not None and cache.exists():
        stored = pickle.loads(cache.read_bytes())
        if isinstance(stored, dict) and stored.get("key") == key:
            return stored["pages"]
        print(f"{cache} was written for other data; recomputing")
    recognizer = get_asternet()
    out: list[PageLogProbs] = []
    for index, samples in enumerate(field_pages(cells, seed, pages)):
        filled = [s for s in samples if not s.cell.is_empty]
        evidence = iter(recognizer.line_log_probs([line for s in filled for line in s.cell.lines]))
        out.append([(s.record, s.key, s.field_type, s.expected, [next(evidence) for _ in s.cell.lines])
                    for s in filled])
        print(f"page {index + 1}/{pages}: {len(filled)} fields", flush=True)
    if cache is not None:
        cache.write_bytes(pickle.dumps({"key": key, "pages": out}))
    return out


def features_and_labels(pages: list[PageLogProbs], local: LocalLexicon | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature matrix, labels (1 = exactly right) and page index of every field read as something.

    ``local``: what ingest passes for the book (its unit's home area; see bench.recognition.unit_lexicon).
    """
    xs, ys, page_ids = [], [], []
    for index, page in enumerate(pages):
        # Decoded as ingest decodes a page: the page context (registration-number run) included.
        decoded = decode_cells([f[4] for f in page], [f[2] for f in page], local,
                               places=[(f[0], f[1]) for f in page])
        for (_, _, field_type, expected, _), cell_decoded in zip(page, decoded, strict=True):
            reading = read_field(field_type, cell_decoded)
            if not reading.value:
                continue  # ingest never calibrates "" (see ocr.recognition.proposal_from_lines)
            xs.append(reading.features.vector())
            ys.append(float(reading.value == expected))
            page_ids.append(index)
    return np.stack(xs), np.asarray(ys), np.asarray(page_ids)


def _source_cache(cache: Path | None, cells: str, sources: list[str]) -> Path | None:
    """The cache file of one cell source: ``cache`` itself when there is one source."""
    if cache is None or len(sources) == 1:
        return cache
    return cache.with_name(f"{cache.stem}-{cells}{cache.suffix}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--version", default="v1")
    parser.add_argument("--cells", default="oracle",
                        help="comma-separated cell sources pooled: line crops at the true ink boxes (oracle) "
                             "and/or as the page pipeline cuts them (pipeline)")
    parser.add_argument("--unit", default=RENDERED_UNIT,
                        help=f"the book's unit as ingest knows it (default: {RENDERED_UNIT!r}; '' for none)")
    parser.add_argument("--cache", type=Path,
                        help="pickle of the frame posteriors (reused when present; one file per cell source, "
                             "named <stem>-<cells><suffix> when several are pooled)")
    parser.add_argument("--out-dir", type=Path, default=CALIBRATION_DIR,
                        help="where <version>.json goes (a trial fit: somewhere outside ocr/assets)")
    args = parser.parse_args(argv)

    sources = args.cells.split(",")
    if unknown := set(sources) - set(CELL_SOURCES):
        parser.error(f"unknown cell sources {sorted(unknown)}; choose from {sorted(CELL_SOURCES)}")
    started = time.perf_counter()
    local = unit_lexicon(args.unit)
    parts = [features_and_labels(page_log_probs(args.seed, args.pages, _source_cache(args.cache, cells, sources),
                                                cells), local) for cells in sources]
    x, y, page_ids = (np.concatenate(column) for column in zip(*parts, strict=True))
    held_out = page_ids % 4 == 3
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
    calibrator.trained_on = {
        "data": "synthetic pages (samples.render, handwriting fonts), " + " + ".join(described[c] for c in sources),
        "cells": args.cells,
        "seed": args.seed,
        "pages": args.pages,
        "engine": "asternet + field decoding",
        "unit": args.unit,
        **metrics,
    }
    path = calibrator.save(args.out_dir)
    print(f"saved {path} in {time.perf_counter() - started:.0f} s")
    for key, value in metrics.items():
        print(f"  {key}: {value}")
    for row in reliability_table(predicted, truth):
        print(f"  {row['bin']}: n={row['n']} confidence={row['confidence']} accuracy={row['accuracy']}")


if __name__ == "__main__":
    main()
