"""How surely a page's hand is read is evidence for each of its fields (issue 13): a field read
with sure frames on a page the reader reads poorly overall is less likely right than the same
field on a page it reads well, and calibrator v4 says so."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ocr.confidence import (
    EVIDENCE_FEATURES,
    FEATURE_NAMES,
    PAGE_SURENESS_MIN_FIELDS,
    ConfidenceFeatures,
    fit_logistic,
    load_calibrator,
    with_page_sureness,
)
from ocr.read.engines.asternet import get_asternet
from ocr.recognition import propose_cells
from ocr.types import Box, CellImage
from samples.lines import Degradation, render_line
from tests.test_recognition import DANCING

BASE = ConfidenceFeatures("person_name", 0.8, 0.95, True, 1.0, True, False, 14)


def test_the_page_sureness_is_the_median_of_its_fields_mean_character_probability() -> None:
    page = [replace(BASE, mean_char_prob=p) for p in (0.5, 0.9, 0.99, 0.7, 0.95, 0.8, 0.97)]
    assert [f.page_sureness for f in with_page_sureness(page)] == [0.9] * len(page)
    few = page[:PAGE_SURENESS_MIN_FIELDS - 1]  # too few fields say little about the hand
    assert with_page_sureness(few) == few


def test_page_sureness_is_evidence_and_unknown_is_no_evidence_either_way() -> None:
    assert "page_sureness" in EVIDENCE_FEATURES  # its weight can never be negative
    calibrator = load_calibrator("v4")
    assert "page_sureness" in calibrator.feature_names
    weight = calibrator.weights[calibrator.feature_names.index("page_sureness")]
    assert weight > 0
    # Unknown (a cell read without its page) scores as the fitted average page.
    mean_logit = calibrator.mean[calibrator.feature_names.index("page_sureness")]
    average_page = 1 / (1 + np.exp(-mean_logit))
    at_average = calibrator.probability(replace(BASE, page_sureness=average_page))
    assert calibrator.probability(BASE) == pytest.approx(at_average)
    surer = [calibrator.probability(replace(BASE, page_sureness=s)) for s in (0.6, 0.8, 0.9, 0.97, 0.995)]
    assert surer == sorted(surer) and surer[0] < surer[-1]
    # Older calibrators do not list it: unchanged whatever the page.
    v3 = load_calibrator("v3")
    assert v3.probability(replace(BASE, page_sureness=0.5)) == v3.probability(BASE)


def test_a_fit_takes_unknown_values_as_the_column_mean() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, len(FEATURE_NAMES)))
    y = (rng.uniform(size=400) < 0.7).astype(float)
    column = FEATURE_NAMES.index("page_sureness")
    x[::3, column] = np.nan  # some fields read without their page
    partly = fit_logistic(x, y, "test")
    assert np.isfinite(partly.weights).all() and np.isfinite(partly.mean).all()
    x[:, column] = np.nan  # an office fit on single cells: the page is never known
    never = fit_logistic(x, y, "test")
    assert never.weights[column] == 0.0 and np.isfinite(never.predict(x)).all()


def _cell(key: str, text: str, spoilt: bool) -> CellImage:
    degradation = Degradation(blur=2.0, noise=40, ink=150) if spoilt else Degradation()
    return CellImage(key, Box(0, 0, 10, 10), [render_line(text, DANCING, size=44, degradation=degradation)], False)


NAMES = ("Nguyễn Văn An", "Trần Thị Hoa", "Lê Minh Tuấn", "Phạm Thu Hà", "Võ Quốc Bảo", "Đặng Thị Lan",
         "Bùi Văn Nam")


def test_the_same_clean_field_is_less_sure_on_a_page_read_poorly_than_on_a_page_read_well() -> None:
    recognizer, calibrator = get_asternet(), load_calibrator("v4")
    clean = (_cell("full_name", NAMES[0], spoilt=False), "person_name")

    def page(spoilt: bool) -> list[tuple[CellImage, str]]:
        return [clean] + [(_cell("mother_name", name, spoilt), "person_name") for name in NAMES[1:]]

    on_clean_page = propose_cells(page(False), recognizer, calibrator, one_page=True)[0]
    on_spoilt_page = propose_cells(page(True), recognizer, calibrator, one_page=True)[0]
    alone = propose_cells([clean], recognizer, calibrator)[0]
    assert on_clean_page.value == on_spoilt_page.value == alone.value == NAMES[0]
    assert on_spoilt_page.confidence < on_clean_page.confidence
    # Not read as one page: the same cells give each field its own confidence, as a lone cell has.
    not_a_page = propose_cells(page(True), recognizer, calibrator)[0]
    assert not_a_page.confidence == alone.confidence
