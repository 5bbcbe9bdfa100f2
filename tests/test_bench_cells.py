"""Benchmark cells as ingest cuts them (samples.fields.pipeline_pages) and their plumbing.

A real rendered sample-book-like page goes through the real page pipeline; recognition uses
the real AsterNet model. Seed 5 is a test seed (2027 is the held-out benchmark seed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bench.fit_calibrator as fit_calibrator
import bench.recognition as recognition
from ocr.recognition import EMPTY_CELL_CONFIDENCE
from samples.build_committed import OPTIONS as SAMPLE_BOOK_OPTIONS
from samples.fields import (
    BOOK_TYPES,
    FieldSample,
    field_pages,
    pipeline_page_samples,
    pipeline_pages,
    rendered_pages,
    scored_fields,
    synthetic_pages,
)
from workbench.book_types import get_book_type

SEED = 5


@pytest.fixture(scope="module")
def pipeline_page() -> list[FieldSample]:
    return next(pipeline_pages(SEED, 1))


def test_pipeline_cells_cover_every_truth_field_with_its_type(pipeline_page: list[FieldSample]) -> None:
    oracle_page = next(synthetic_pages(SEED, 1))
    # Same seed, same written values: only the scan and the cutting differ.
    assert [(s.key, s.truth) for s in pipeline_page] == [(s.key, s.truth) for s in oracle_page]
    types = {c.key: c.field_type for c in get_book_type(BOOK_TYPES[0]).layout.columns}
    assert all(s.field_type == types[s.key] for s in pipeline_page)
    assert {s.key for s in pipeline_page} == set(types)

    written = [s for s in pipeline_page if s.expected]
    found = [s for s in written if s.matched and not s.cell.is_empty]
    assert len(found) >= 0.9 * len(written)
    # The pipeline cut the lines itself: mostly as many as were written.
    oracle_lines = {(i, s.key): len(s.cell.lines) for i, s in enumerate(oracle_page)}
    same_count = [len(s.cell.lines) == oracle_lines[(i, s.key)] for i, s in enumerate(pipeline_page) if s.expected]
    assert np.mean(same_count) >= 0.8
    # Crops are the pipeline's (normalised, padded), not the oracle's raw page pixels.
    assert all(line.ndim == 2 and line.shape[0] >= 10 for s in found for line in s.cell.lines)


def test_fields_of_rows_the_pipeline_missed_count_as_misses(pipeline_page: list[FieldSample]) -> None:
    page = next(rendered_pages(SEED, 1, SAMPLE_BOOK_OPTIONS))
    blank = np.full_like(page.image, 255)  # the pipeline finds no record on it
    samples = pipeline_page_samples(page.page_id, blank, page.truth, page.book_type)
    assert len(samples) == len(pipeline_page)
    assert not any(s.matched for s in samples)
    assert all(s.cell.is_empty for s in samples)
    scored = scored_fields(samples)
    assert scored == [s for s in samples if s.expected] and scored
    reader = recognition.asternet_reader(True)
    assert all(value == "" and confidence == EMPTY_CELL_CONFIDENCE for value, confidence in reader(scored))


def test_recognition_benchmark_reads_pipeline_cells(pipeline_page: list[FieldSample], tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    recognition.main(["--cells", "pipeline", "--pages", "1", "--seed", str(SEED), "--engines", "lexicon",
                      "--json", str(out)])
    lexicon = json.loads(out.read_text(encoding="utf-8"))["lexicon"]
    assert lexicon["fields"] == len(scored_fields(pipeline_page))
    assert lexicon["exact_match"] >= 0.6  # the oracle cells of such pages read ~0.78
    assert 0.0 <= lexicon["ece"] <= 1.0


def test_calibrator_features_from_pipeline_cells(pipeline_page: list[FieldSample], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "posteriors.pkl"
    pipeline = fit_calibrator.CellSource("pipeline", 1)
    pages = fit_calibrator.page_log_probs(SEED, pipeline, cache)
    assert len(pages[0].fields) == sum(not s.cell.is_empty for s in pipeline_page)
    assert pages[0].warnings == pipeline_page[0].page_warnings  # the page's QA codes go with its cells
    x, y, page_ids = fit_calibrator.features_and_labels(pages)
    assert x.shape[0] == y.size == page_ids.size >= 0.9 * len(pages[0].fields)
    assert 0.6 <= y.mean() < 1.0

    def no_model() -> None:
        raise AssertionError("the model was run although the cache holds this data")

    monkeypatch.setattr(fit_calibrator, "get_asternet", no_model)
    again = fit_calibrator.features_and_labels(fit_calibrator.page_log_probs(SEED, pipeline, cache))
    np.testing.assert_array_equal(again[0], x)
    with pytest.raises(AssertionError, match="the model was run"):  # other cells: the cache is not reused
        fit_calibrator.page_log_probs(SEED, fit_calibrator.CellSource("oracle", 1), cache)


def test_unknown_cell_source_is_refused() -> None:
    with pytest.raises(ValueError, match="cells must be one of"):
        field_pages("ground_truth", SEED, 1)
