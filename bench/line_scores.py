"""Shared by the recognition benchmarks: labelled line folders and the scores of a set of readings.

``labelled_lines`` reads a folder of line images with ``labels.tsv`` (``file<TAB>text``);
``cer`` is one value's character error rate; ``confidence_quality`` says how useful a reader's
confidences are: the share of readings at confidence >= the review's high band (0.9) and how
often those are exactly right, and the ECE over 10 equal-width bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from ocr.confidence import ConfidenceBands, expected_calibration_error, reliability_table
from ocr.types import Box, CellImage
from samples.fields import FieldSample

LABELLED_PAGE_ID = "labels"  # FieldSample.page_id of a labelled line (not a synthetic page's field)


def labelled_lines(folder: Path, limit: int | None = None) -> list[FieldSample]:
    """The labelled lines of ``folder`` in ``labels.tsv`` order (the first ``limit`` that load),
    read as free text; rows without a tab or whose image does not load are left out."""
    samples: list[FieldSample] = []
    for row in (folder / "labels.tsv").read_text(encoding="utf-8").splitlines():
        if limit is not None and len(samples) >= limit:
            break
        if "\t" not in row:
            continue
        name, text = row.split("\t", 1)
        image = cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)
        if image is not None:
            cell = CellImage(name, Box(0, 0, 0, 0), [image], is_empty=False)
            samples.append(FieldSample(LABELLED_PAGE_ID, name, "free_text", text, " ".join(text.split()), cell))
    return samples


def edit_distance(truth: str, value: str) -> int:
    return Levenshtein.distance(truth, value)


def cer(truth: str, value: str) -> float:
    """Character error rate of one value (edits per truth character; an empty truth counts as 1)."""
    return edit_distance(truth, value) / max(1, len(truth))


@dataclass(frozen=True)
class ConfidenceQuality:
    """How far a set of confidences can be trusted (rounded as the benchmarks print them)."""

    high_band_share: float  # share of readings at confidence >= ConfidenceBands().high
    high_band_precision: float | None  # share of those exactly right (None: no reading is that sure)
    high_band_wrong: int  # readings that sure and wrong: what an official would wave through
    ece: float
    reliability: list[dict[str, object]]


def confidence_quality(confidences: np.ndarray, correct: np.ndarray) -> ConfidenceQuality:
    """``confidences`` in [0, 1] and ``correct`` (1.0: exactly right) of the same readings."""
    high = confidences >= ConfidenceBands().high
    return ConfidenceQuality(
        high_band_share=round(float(high.mean()), 4),
        high_band_precision=round(float(correct[high].mean()), 4) if high.any() else None,
        high_band_wrong=int((correct[high] < 1).sum()),
        ece=round(expected_calibration_error(confidences, correct), 4),
        reliability=reliability_table(confidences, correct),
    )
