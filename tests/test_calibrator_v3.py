"""Calibrator v3: doubt features (far repairs, wrapped cells, guessed grids/columns) can only lower
the confidence; v1/v2 files still score exactly as before; the fit never sees held-out families."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from bench.fit_calibrator import main as fit_main
from bench.fit_calibrator import tuning_families
from ocr.confidence import (
    CALIBRATION_DIR,
    DOUBT_FEATURES,
    EVIDENCE_FEATURES,
    FEATURE_NAMES,
    Calibrator,
    ConfidenceFeatures,
    fit_logistic,
    load_calibrator,
)
from ocr.read.decoding import DecodedLine
from ocr.read.engines.asternet import get_asternet
from ocr.recognition import propose_cells, read_field
from ocr.types import CharConfidence, LineReading
from tests.test_recognition import cell

EVIDENCE = ConfidenceFeatures("person_name", 0.8, 0.95, True, 1.0, True, False, 14)
# Every way a cell can look doubtful, one at a time.
DOUBTS = {
    "repair_edits": {"repair_edits": 0.4},
    "log_repair_nats": {"repair_nats": 6.0},
    "extra_lines": {"lines": 3},
    "columns_doubt": {"page_warnings": ("columns_guessed",)},
    "grid_doubt": {"page_warnings": ("grid_text_lines",)},
    "rival_share": {"rival": 0.3},
}


def test_every_doubt_feature_is_computed_and_constrained() -> None:
    assert set(DOUBTS) == set(DOUBT_FEATURES) and not set(DOUBT_FEATURES) & set(EVIDENCE_FEATURES)
    for name, change in DOUBTS.items():
        before, after = EVIDENCE.values(), replace(EVIDENCE, **change).values()
        assert after[name] > before[name], name


def test_a_fit_gives_doubt_features_no_positive_weight_even_when_the_data_would() -> None:
    # Data in which every doubt feature goes with *right* readings: the projection keeps their
    # weights at <= 0 (and evidence weights >= 0), so doubt never raises a confidence.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, len(FEATURE_NAMES)))
    signs = np.array([-1.0 if n in EVIDENCE_FEATURES else 1.0 if n in DOUBT_FEATURES else 0.0 for n in FEATURE_NAMES])
    y = (rng.uniform(size=3000) < 1 / (1 + np.exp(-(x @ signs)))).astype(float)
    weights = dict(zip(FEATURE_NAMES, fit_logistic(x, y, "test").weights, strict=True))
    assert all(weights[n] <= 0 for n in DOUBT_FEATURES) and all(weights[n] >= 0 for n in EVIDENCE_FEATURES)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("doubt", sorted(DOUBTS))
def test_doubt_can_only_lower_the_confidence(version: str, doubt: str) -> None:
    calibrator = load_calibrator(version)
    for base in (EVIDENCE, replace(EVIDENCE, field_type="sex", n_chars=3, min_char_prob=0.99),
                 replace(EVIDENCE, field_type="date", agreement=False, min_char_prob=0.3)):
        assert calibrator.probability(replace(base, **DOUBTS[doubt])) <= calibrator.probability(base)


# Probabilities the v1/v2 files gave before the doubt features existed (computed with the
# previous ocr/confidence.py); a v1/v2 calibrator must ignore lines and page warnings.
BEFORE = {
    "v1": (0.7355211985171276, 0.998599160696569, 0.02551508470548391, 0.16441141499548978),
    "v2": (0.7645054098501459, 0.9986365359181619, 0.4529577250244334, 0.19902666591305573),
}
CASES = (
    ("person_name", 0.6, 0.9, True, 1.0, True, False, 12),
    ("sex", 0.97, 0.99, True, 1.0, True, True, 3),
    ("date", 0.4, 0.8, False, 1.0, False, True, 10),
    ("place", 0.85, 0.95, True, 0.5, True, True, 40),
)


@pytest.mark.parametrize("version", sorted(BEFORE))
def test_old_calibrators_load_and_give_the_same_probabilities_as_before(version: str) -> None:
    calibrator = Calibrator.load(CALIBRATION_DIR / f"{version}.json")
    assert calibrator.feature_names == list(FEATURE_NAMES[:12])  # they list their own features
    for case, expected in zip(CASES, BEFORE[version], strict=True):
        features = ConfidenceFeatures(*case)  # type: ignore[arg-type]
        assert calibrator.probability(features) == expected
        wrapped_on_a_doubtful_page = replace(features, lines=3, page_warnings=("columns_guessed", "grid_text_lines"))
        assert calibrator.probability(wrapped_on_a_doubtful_page) == expected


def test_a_calibrator_with_a_feature_this_code_cannot_compute_is_refused(tmp_path) -> None:
    calibrator = Calibrator("vx", [0.0, 1.0], 0.0, ["logit_min_char", "moon_phase"], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="moon_phase"):
        Calibrator.load(calibrator.save(tmp_path))


@pytest.mark.parametrize("names", ["wrapped_narrow", "classic,stamped", "held_out", "real_hands"])
def test_the_fit_refuses_held_out_families(names: str) -> None:
    with pytest.raises(ValueError, match="held-out"):
        tuning_families(names)
    with pytest.raises(SystemExit):  # before anything is rendered or read
        fit_main(["--families", names, "--out-dir", "/nonexistent"])


def test_the_fit_accepts_the_tuning_families() -> None:
    assert [f.name for f in tuning_families("tuned")] == ["classic", "short_header", "jittered_columns",
                                                          "faded_rulings"]


def _sure_reading(field_type: str, text: str) -> list[DecodedLine]:
    reading = LineReading(text, [CharConfidence(c, 0.995) for c in text], 0.995)
    return [DecodedLine(reading, reading, text)]


@pytest.mark.parametrize(("field_type", "text"), [("person_name", "Nguyễn Văn An"), ("nationality", "Việt Nam"),
                                                  ("place", "Xã Tân Lập, huyện Đồng Phú")])
def test_a_wrapped_cell_or_a_page_with_guessed_columns_gets_a_lower_confidence(field_type: str, text: str) -> None:
    calibrator = load_calibrator("v3")
    decoded = _sure_reading(field_type, text)
    plain = calibrator.probability(read_field(field_type, decoded, lines=1).features)
    wrapped = calibrator.probability(read_field(field_type, decoded, lines=2).features)
    guessed = calibrator.probability(read_field(field_type, decoded, page_warnings=["columns_guessed"]).features)
    assert wrapped < plain and guessed < plain


@dataclass
class _Recorder(Calibrator):
    seen: list[ConfidenceFeatures] = field(default_factory=list)

    def probability(self, features: ConfidenceFeatures) -> float:
        self.seen.append(features)
        return 0.5


def test_the_cell_line_count_and_page_warnings_reach_the_features() -> None:
    # A nationality written on two lines is decoded as one joined line: the count comes from the cell.
    cells = [(cell("nationality", "Việt", "Nam"), "nationality"), (cell("full_name", "Trần Thị Hoa"), "person_name")]
    recorder = _Recorder("recorder", [], 0.0)
    propose_cells(cells, get_asternet(), recorder, page_warnings=["columns_guessed"])
    assert [f.lines for f in recorder.seen] == [2, 1]
    assert all(f.page_warnings == ("columns_guessed",) for f in recorder.seen)
