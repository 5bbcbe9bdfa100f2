"""Calibrated confidence that a proposed field value is exactly right.

Evidence from the recognizer and the field knowledge is turned into features; a small
logistic model (numpy only), fitted by ``bench/fit_calibrator.py`` on synthetic labelled
lines and stored as versioned JSON under ``ocr/assets/calibration/``, maps them to a
probability. Evidence features are constrained to non-negative weights so that more
evidence never lowers the confidence.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from ocr.types import CharConfidence

CALIBRATION_DIR = Path(__file__).resolve().parent / "assets" / "calibration"
DEFAULT_CALIBRATION_VERSION = "v2"  # v1: fitted before paper whitening, grammars, page context, home area

# Groups of field types that behave alike (one intercept shift each).
FIELD_GROUPS = {
    "registration_no": "numeric",
    "date": "numeric",
    "person_name": "name",
    "sex": "closed",
    "ethnicity": "closed",
    "nationality": "closed",
    "place": "place",
    "free_text": "free",
}
GROUP_ORDER = ("numeric", "name", "closed", "place", "free")

# Features whose weight must stay >= 0 (more of them = more evidence of a correct reading).
EVIDENCE_FEATURES = (
    "logit_min_char",
    "logit_mean_char",
    "agreement",
    "lexicon_share",
    "validator_ok",
)
FEATURE_NAMES = (*EVIDENCE_FEATURES, "used_lexicon", "log_chars", *(f"group_{g}" for g in GROUP_ORDER))


@dataclass(frozen=True)
class ConfidenceBands:
    """Review bands shown to officials: high >= high, low < medium."""

    high: float = 0.9
    medium: float = 0.6

    def band(self, confidence: float) -> str:
        if confidence >= self.high:
            return "high"
        return "medium" if confidence >= self.medium else "low"


@dataclass(frozen=True)
class ConfidenceFeatures:
    """Evidence about one field reading."""

    field_type: str
    min_char_prob: float
    mean_char_prob: float
    agreement: bool  # greedy and lexicon-constrained readings agree
    lexicon_share: float  # share of words found in the field's lexicon (1.0 when none applies)
    validator_ok: bool  # no validator error for the normalized value
    used_lexicon: bool  # the lexicon changed the greedy reading
    n_chars: int
    # Evidence of doubt outside the fitted model (see doubt_cap): nats by which the frames
    # preferred the reading to the list entry or grammar repair that was chosen, and the share
    # of the chosen value's letters that differ from what was read (edit distance / length).
    repair_nats: float = 0.0
    repair_edits: float = 0.0

    def vector(self) -> np.ndarray:
        group = FIELD_GROUPS.get(self.field_type, "free")
        values = [
            _logit(self.min_char_prob),
            _logit(self.mean_char_prob),
            float(self.agreement),
            float(self.lexicon_share),
            float(self.validator_ok),
            float(self.used_lexicon),
            math.log1p(self.n_chars),
            *(float(group == g) for g in GROUP_ORDER),
        ]
        return np.asarray(values, dtype=np.float64)


# A value picked from a list, or repaired by a grammar, that differs from what was read in more
# than half its letters ("Óữữ" -> "Nữ", a neighbour's "Ê Đê" -> "Dao") was chosen because the
# reading was far from every entry: however sure the frames are of the letters they read, the
# choice is a guess, and it never reaches the high band. (On the tuning families the rows this
# caps were right, at about 1% of the high band: the price of not promising what we cannot know.)
FAR_REPAIR_EDIT_SHARE = 0.5
FAR_REPAIR_MAX_CONFIDENCE = 0.85


def doubt_cap(features: ConfidenceFeatures) -> float:
    """Highest confidence the evidence of doubt allows (1.0: no doubt recorded)."""
    if features.repair_edits > FAR_REPAIR_EDIT_SHARE:
        return FAR_REPAIR_MAX_CONFIDENCE
    return 1.0


def char_prob_summary(chars: list[CharConfidence]) -> tuple[float, float]:
    """(min, mean) character probability over the non-space characters."""
    probs = [c.confidence for c in chars if not c.char.isspace()]
    if not probs:
        return 0.0, 0.0
    return float(min(probs)), float(np.mean(probs))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class Calibrator:
    """Logistic map from features to P(value exactly right)."""

    version: str
    weights: list[float]
    bias: float
    feature_names: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    mean: list[float] = field(default_factory=lambda: [0.0] * len(FEATURE_NAMES))
    scale: list[float] = field(default_factory=lambda: [1.0] * len(FEATURE_NAMES))
    trained_on: dict[str, object] = field(default_factory=dict)

    def probability(self, features: ConfidenceFeatures) -> float:
        return min(float(self.predict(features.vector()[None, :])[0]), doubt_cap(features))

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights) + self.bias
        return _sigmoid(z)

    def save(self, directory: Path = CALIBRATION_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.version}.json"
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["feature_names"]) != FEATURE_NAMES:
            raise ValueError(f"{path}: calibrator features {data['feature_names']} != {FEATURE_NAMES}")
        return cls(**data)


def fit_logistic(
    x: np.ndarray, y: np.ndarray, version: str, l2: float = 1e-2, steps: int = 3000, lr: float = 0.1
) -> Calibrator:
    """L2-regularized logistic regression by projected gradient descent (evidence weights >= 0)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    xs = (x - mean) / scale
    n, d = xs.shape
    w = np.zeros(d)
    b = float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
    nonneg = np.array([name in EVIDENCE_FEATURES for name in FEATURE_NAMES])
    for _ in range(steps):
        p = _sigmoid(xs @ w + b)
        grad_w = xs.T @ (p - y) / n + l2 * w
        grad_b = float(np.mean(p - y))
        w -= lr * grad_w
        b -= lr * grad_b
        w[nonneg] = np.maximum(w[nonneg], 0.0)
    return Calibrator(version, w.tolist(), b, list(FEATURE_NAMES), mean.tolist(), scale.tolist())


def heuristic_calibrator() -> Calibrator:
    """Used only when no fitted calibration file exists: min character probability, damped."""
    weights = [0.0] * len(FEATURE_NAMES)
    weights[FEATURE_NAMES.index("logit_min_char")] = 0.8
    weights[FEATURE_NAMES.index("agreement")] = 1.0
    weights[FEATURE_NAMES.index("validator_ok")] = 1.0
    return Calibrator("heuristic", weights, -1.5)


@cache
def load_calibrator(version: str = DEFAULT_CALIBRATION_VERSION) -> Calibrator:
    path = CALIBRATION_DIR / f"{version}.json"
    return Calibrator.load(path) if path.exists() else heuristic_calibrator()


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for k in range(bins):
        mask = index == k
        if mask.any():
            ece += mask.mean() * abs(float(confidence[mask].mean()) - float(correct[mask].mean()))
    return float(ece)


def reliability_table(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict[str, object]]:
    """Per-bin count, mean confidence and accuracy (for the benchmark report)."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows = []
    for k in range(bins):
        mask = index == k
        if mask.any():
            rows.append({
                "bin": f"{edges[k]:.1f}-{edges[k + 1]:.1f}",
                "n": int(mask.sum()),
                "confidence": round(float(confidence[mask].mean()), 3),
                "accuracy": round(float(correct[mask].mean()), 3),
            })
    return rows
