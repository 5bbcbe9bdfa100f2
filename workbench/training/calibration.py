"""Re-fit the confidence calibrator for a new model on held-out lines/fields.

The features are exactly those ``ocr.recognition`` computes for each proposal: a recording
calibrator is handed to ``propose_cells`` and keeps the features it is asked to score, and the
label is whether the proposal equals the confirmed value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ocr.confidence import Calibrator, ConfidenceFeatures, expected_calibration_error, fit_logistic
from ocr.read.engines.base import Recognizer
from workbench.training.fields import HeldOutField, propose_fields

MIN_FIELDS = 30  # fewer held-out fields than this: keep the default calibrator
MIN_PER_CLASS = 5  # need some right and some wrong readings to fit anything


@dataclass
class _FeatureRecorder(Calibrator):
    seen: list[ConfidenceFeatures] = field(default_factory=list)

    def probability(self, features: ConfidenceFeatures) -> float:
        self.seen.append(features)
        return 0.5


@dataclass(frozen=True)
class CalibrationFit:
    calibrator: Calibrator | None  # None: not enough evidence, the default stays
    fields: int
    accuracy: float
    ece: float | None  # expected calibration error of the fitted calibrator on its own data
    reason: str


def refit_calibrator(recognizer: Recognizer, fields: Sequence[HeldOutField], version: str) -> CalibrationFit:
    recorder = _FeatureRecorder("recorder", [], 0.0)
    # One features record per field read: the first reading's, as the shipped calibrators are fitted
    # (the second reader's re-reads are scored again and capped after the calibrator).
    proposals = propose_fields(recognizer, fields, recorder, second_reader=False)
    # Empty proposals skip the calibrator; keep the fields that produced features, in order.
    scored = [(f, p) for f, p in zip(fields, proposals, strict=True) if p.value]
    if len(recorder.seen) != len(scored):
        return CalibrationFit(None, len(fields), 0.0, None, "feature count mismatch; default calibrator kept")
    correct = np.array([p.value == f.expected for f, p in scored], dtype=np.float64)
    accuracy = float(correct.mean()) if len(correct) else 0.0
    if len(scored) < MIN_FIELDS or correct.sum() < MIN_PER_CLASS or (1 - correct).sum() < MIN_PER_CLASS:
        return CalibrationFit(None, len(scored), accuracy, None,
                              f"{len(scored)} fields, {int(correct.sum())} right: too few to fit; default kept")
    x = np.stack([features.vector() for features in recorder.seen])
    calibrator = fit_logistic(x, correct, version)
    ece = expected_calibration_error(calibrator.predict(x), correct)
    calibrator.trained_on = {"fields": len(scored), "accuracy": round(accuracy, 4), "ece": round(ece, 4)}
    return CalibrationFit(calibrator, len(scored), accuracy, ece, "fitted")
