"""Calibrated confidence that a proposed field value is exactly right.

Evidence from the recognizer and the field knowledge is turned into features; a small
logistic model (numpy only), fitted by ``bench/fit_calibrator.py`` on synthetic labelled
lines and stored as versioned JSON under ``ocr/assets/calibration/``, maps them to a
probability. Evidence features are constrained to non-negative weights so that more
evidence never lowers the confidence; doubt features (signs that the reader is out of its
depth: a far repair, a wrapped cell, a page whose grid or columns were guessed) to
non-positive weights, so that they can only lower it. Each calibrator lists the features it
was fitted on and scores only those: a v1/v2 file ignores the doubt features added since.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from ocr.fields.grammars import field_grammar
from ocr.types import CharConfidence

CALIBRATION_DIR = Path(__file__).resolve().parent / "assets" / "calibration"
# Since 2026-12-07 lexicon_share counts only the field's own words (Lexicon.is_field_word), not every
# valid syllable; v4 is kept as it was fitted. The README's fit command re-run with it (a "v5") covers
# more fields at >=0.9 but is less often right there on held-out pages (seed 8484: 41.1% at 99.1%, ECE
# 0.050, against v4's 39.5% at 99.3%, ECE 0.037), and coverage is what the high band gives up first.
# v4: the page's sureness as evidence (PAGE_EVIDENCE_FEATURES) and rival_share, fitted on the pipeline
# cells of the tuning families only (bench.fit_calibrator --cells '' --families tuned): clean oracle
# crops would set the average page sureness above every page the pipeline cuts. Its frames came from
# the fit caches v3 was fitted from (the page pipeline of 2026-12-06); the same command on today's
# pipeline, caches recomputed, gives weights within 0.13 of these (page_sureness +0.37, not +0.41).
# v3: doubt features, fitted on the tuning families (bench.robustness, seed 4242: held-out >=0.9
# precision 96.4% vs 96.0%, ECE 0.085 vs 0.090 with v2); v2: classic pages only; v1: before paper
# whitening, grammars, page context, home area. All stay loadable: a proposal keeps its version.
DEFAULT_CALIBRATION_VERSION = "v4"

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

# Features whose weight must stay >= 0 (more of them = more evidence of a correct reading): about
# the field, and about its page.
FIELD_EVIDENCE_FEATURES = (
    "logit_min_char",
    "logit_mean_char",
    "agreement",
    "lexicon_share",
    "validator_ok",
)
PAGE_EVIDENCE_FEATURES = (
    # How sure the reader is of the page's hand as a whole: the median of its read fields' mean
    # character probability. A hand unlike those the calibrator was fitted on reads less surely on
    # every field, so each field's own certainty overstates its chance; unknown (a single cell
    # read alone) scores as the fitted average, i.e. no evidence either way.
    "page_sureness",
)
EVIDENCE_FEATURES = (*FIELD_EVIDENCE_FEATURES, *PAGE_EVIDENCE_FEATURES)
# Features whose weight must stay <= 0 (more of them = more reason to doubt the reading).
DOUBT_FEATURES = (
    "repair_edits",  # share of the value's letters the list entry / grammar repair changed
    "log_repair_nats",  # log1p of the nats by which the frames preferred the reading to the repair
    "extra_lines",  # text lines in the cell beyond the first (wrapped writing is cut and read in pieces)
    "columns_doubt",  # the page's columns were guessed, differ from the template, or writing lies beside the table
    "grid_doubt",  # the page's grid was found from partial rulings or from the text lines alone
    "rival_share",  # the strongest character a frame saw but the reading did not emit (LineReading.rival)
)
# The features a calibrator fitted today uses (v1 and v2 were fitted on the first 12 only).
FEATURE_NAMES = (*FIELD_EVIDENCE_FEATURES, "used_lexicon", "log_chars", *(f"group_{g}" for g in GROUP_ORDER),
                 *DOUBT_FEATURES, *PAGE_EVIDENCE_FEATURES)

# Page warnings (ocr.layout.page, PageAnalysis.warnings) that make every cell of the page less certain:
# its cells may be cut across the wrong rulings.
COLUMN_DOUBT_WARNINGS = frozenset({"columns_guessed", "columns_differ_from_template",
                                   "ink_left_of_table", "ink_right_of_table"})
GRID_DOUBT_WARNINGS = frozenset({"grid_partial_rulings", "grid_text_lines"})


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
    # The value as written contradicts itself ("1/03/2003": one part padded, the other not) or
    # the rest of its record (a birth after the registration, an age no registration shows).
    contradiction: bool = False
    # Where the reading comes from: text lines the pipeline cut in the cell (closed lists and
    # grammars join them into one decoded line, so the caller says), and the page's warnings.
    lines: int = 1
    page_warnings: tuple[str, ...] = ()
    # The highest probability a frame of the cell gave a character the reading did not emit (a dropped
    # or swapped character; ocr.read.decoding.frame_rival): 0.0 when no frame hesitated, or unknown.
    rival: float = 0.0
    # The page's median mean character probability over its read fields (with_page_sureness);
    # None when the cell is read without its page.
    page_sureness: float | None = None

    def values(self) -> dict[str, float]:
        """Every known feature by name (FEATURE_NAMES)."""
        group = FIELD_GROUPS.get(self.field_type, "free")
        warnings = set(self.page_warnings)
        return {
            "logit_min_char": _logit(self.min_char_prob),
            "logit_mean_char": _logit(self.mean_char_prob),
            "agreement": float(self.agreement),
            "lexicon_share": float(self.lexicon_share),
            "validator_ok": float(self.validator_ok),
            "used_lexicon": float(self.used_lexicon),
            "log_chars": math.log1p(self.n_chars),
            **{f"group_{g}": float(group == g) for g in GROUP_ORDER},
            "repair_edits": float(self.repair_edits),
            "log_repair_nats": math.log1p(max(self.repair_nats, 0.0)),
            "extra_lines": float(max(self.lines - 1, 0)),
            "columns_doubt": float(bool(warnings & COLUMN_DOUBT_WARNINGS)),
            "grid_doubt": float(bool(warnings & GRID_DOUBT_WARNINGS)),
            "rival_share": float(self.rival),
            "page_sureness": math.nan if self.page_sureness is None else _logit(self.page_sureness),
        }

    def vector(self, names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
        """The features ``names`` lists, in that order (a calibrator passes its own list)."""
        values = self.values()
        return np.asarray([values[name] for name in names], dtype=np.float64)


# A value picked from a list, or repaired by a grammar, that differs from what was read in more
# than half its letters ("Óữữ" -> "Nữ", a neighbour's "Ê Đê" -> "Dao") was chosen because the
# reading was far from every entry: however sure the frames are of the letters they read, the
# choice is a guess, and it never reaches the high band. (On the tuning families the rows this
# caps were right, at about 1% of the high band: the price of not promising what we cannot know.)
FAR_REPAIR_EDIT_SHARE = 0.5
FAR_REPAIR_MAX_CONFIDENCE = 0.85
# A reading the writing or its record contradicts (see ConfidenceFeatures.contradiction): the
# frames may be sure of every digit they saw, but a digit they did not see leaves no trace in
# them. On the tuning families such readings were the largest group of wrong dates at >= 0.9.
CONTRADICTION_MAX_CONFIDENCE = 0.85
# A date or registration number whose chosen value holds a character the frames gave almost no
# probability (a field with a grammar, ocr.fields.grammars): the grammar supplied it, the reader did
# not see it ("19/09/197", its last digit cut by the ruling, completed to "19/09/1971" with a "1" at
# 0.02, calibrated 0.925). Not closed lists: a value matched over two lines carries its own rule.
UNSEEN_CHAR_MAX_PROB = 0.05


# A page where few of the read fields reach the high band is written in a hand (or scanned in a state)
# unlike every page the calibrator was fitted on: there its promises were not measured, and on the
# held-out families such pages held most of the wrong values at >= 0.9 (a digit the reader never
# saw leaves no trace in the frames). Below this share of read fields in the high band, no field of
# the page stays in it (capped as a contradiction is). The floor is the lowest page high-band share
# on the tuning families (bench/page_depth.py: 24 pages, seeds 4242 and 777): it fires beyond them.
# It belongs to the default calibrator and the doubts capped after it: 0.333 with v4, the field-word
# share and the second look (0.347 before them; 0.440 with v3, whose confidences did not yet fall with
# the page's sureness); refit the calibrator or add a doubt, re-run the bench.
PAGE_DEPTH_MIN_HIGH_SHARE = 0.33
PAGE_DEPTH_MIN_FIELDS = 12  # fewer read fields than this say too little about the page


# Fewer read fields than this say too little about a page's hand: its fields get no page sureness.
PAGE_SURENESS_MIN_FIELDS = 6


def with_page_sureness(features: Sequence[ConfidenceFeatures]) -> list[ConfidenceFeatures]:
    """The features of one page's read fields, each carrying the page's sureness (the median of
    their mean character probabilities; see EVIDENCE_FEATURES), unchanged when too few were read."""
    if len(features) < PAGE_SURENESS_MIN_FIELDS:
        return list(features)
    sureness = float(np.median([f.mean_char_prob for f in features]))
    return [replace(f, page_sureness=sureness) for f in features]


def page_high_share(confidences: Sequence[float]) -> float:
    """Share of a page's read fields (non-empty proposals) in the high band."""
    high = ConfidenceBands().high
    return sum(c >= high for c in confidences) / len(confidences) if confidences else 0.0


def page_out_of_depth(confidences: Sequence[float]) -> bool:
    """The page's reading is less sure than on any page the calibrator was fitted on (see above)."""
    return len(confidences) >= PAGE_DEPTH_MIN_FIELDS and page_high_share(confidences) < PAGE_DEPTH_MIN_HIGH_SHARE


def doubt_cap(features: ConfidenceFeatures) -> float:
    """Highest confidence the evidence of doubt allows (1.0: no doubt recorded)."""
    cap = 1.0
    if features.repair_edits > FAR_REPAIR_EDIT_SHARE:
        cap = min(cap, FAR_REPAIR_MAX_CONFIDENCE)
    if features.contradiction:
        cap = min(cap, CONTRADICTION_MAX_CONFIDENCE)
    unseen_char = features.n_chars > 0 and features.min_char_prob < UNSEEN_CHAR_MAX_PROB
    if unseen_char and field_grammar(features.field_type) is not None:
        cap = min(cap, CONTRADICTION_MAX_CONFIDENCE)
    return cap


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
        x = features.vector(self.feature_names)[None, :]
        return min(float(self.predict(x)[0]), doubt_cap(features))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(right) for rows of ``x`` holding this calibrator's features (``feature_names``, in order);
        an unknown feature (NaN) scores as the fitted mean: no evidence either way."""
        mean = np.asarray(self.mean)
        x = np.where(np.isnan(x), mean, x)
        z = ((x - mean) / np.asarray(self.scale)) @ np.asarray(self.weights) + self.bias
        return _sigmoid(z)

    def save(self, directory: Path = CALIBRATION_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.version}.json"
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibrator:
        data = json.loads(path.read_text(encoding="utf-8"))
        # An older file lists fewer features (it scores only those); a feature this code cannot
        # compute would be scored as something else: refuse it.
        if unknown := [name for name in data["feature_names"] if name not in FEATURE_NAMES]:
            raise ValueError(f"{path}: unknown calibrator features {unknown}; known: {FEATURE_NAMES}")
        if not len(data["feature_names"]) == len(data["weights"]) == len(data["mean"]) == len(data["scale"]):
            raise ValueError(f"{path}: feature names, weights, mean and scale differ in length")
        return cls(**data)


def sign_constraints(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the features whose weight must stay >= 0 (evidence) and <= 0 (doubt)."""
    return (np.array([name in EVIDENCE_FEATURES for name in names], dtype=bool),
            np.array([name in DOUBT_FEATURES for name in names], dtype=bool))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, version: str, l2: float = 1e-2, steps: int = 3000, lr: float = 0.1,
    names: Sequence[str] = FEATURE_NAMES,
) -> Calibrator:
    """L2-regularized logistic regression by projected gradient descent (evidence weights >= 0,
    doubt weights <= 0); ``x`` holds the features ``names`` lists, in that order."""
    if x.shape[1] != len(names):
        raise ValueError(f"x has {x.shape[1]} columns for {len(names)} feature names")
    known = ~np.isnan(x)
    # Unknown values (NaN) count as the column's mean (0 where never known): no evidence, as in predict.
    mean = np.where(known, x, 0.0).sum(axis=0) / np.maximum(known.sum(axis=0), 1)
    x = np.where(known, x, mean)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    xs = (x - mean) / scale
    n, d = xs.shape
    w = np.zeros(d)
    b = float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
    nonneg, nonpos = sign_constraints(names)
    for _ in range(steps):
        p = _sigmoid(xs @ w + b)
        grad_w = xs.T @ (p - y) / n + l2 * w
        grad_b = float(np.mean(p - y))
        w -= lr * grad_w
        b -= lr * grad_b
        w[nonneg] = np.maximum(w[nonneg], 0.0)
        w[nonpos] = np.minimum(w[nonpos], 0.0)
    return Calibrator(version, w.tolist(), b, list(names), mean.tolist(), scale.tolist())


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
