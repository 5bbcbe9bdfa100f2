"""Issue #13: a page read with less certainty than any page the calibrator was fitted on keeps no
field in the high band, and says so as a page warning."""

from __future__ import annotations

import random

import pytest

import ocr.confidence
from ocr.confidence import CONTRADICTION_MAX_CONFIDENCE, PAGE_DEPTH_MIN_FIELDS, ConfidenceBands, page_out_of_depth
from ocr.image.loading import load_images
from ocr.page_warnings import PageWarning, encode_warnings
from ocr.pipeline import process_page
from ocr.reader import build_reader
from ocr.recognition import PAGE_OUT_OF_DEPTH, apply_page_checks, page_depth_warning
from ocr.types import FieldProposal
from samples.render import PageOptions, render_page_encoded
from workbench.book_types import get_book_type
from workbench.ui.labels import page_warning_vi

HIGH = ConfidenceBands().high


def _page(confidences: list[float], empties: int = 0) -> list[dict[str, FieldProposal]]:
    """One record per field, a name read at each confidence, and ``empties`` empty cells."""
    records = [{"child_name": FieldProposal("child_name", "Lê Văn An", c)} for c in confidences]
    return records + [{"child_name": FieldProposal("child_name", "", 0.99)} for _ in range(empties)]


@pytest.mark.parametrize(("high", "low", "out"), [
    (4, 16, True),  # 20% of the read fields sure: a hand unlike any the calibrator saw
    (15, 5, False),  # 75%: an ordinary page
    (2, 8, False),  # too few read fields to judge the page
])
def test_page_out_of_depth(high: int, low: int, out: bool) -> None:
    assert page_out_of_depth([0.97] * high + [0.5] * low) is out


def test_a_page_out_of_depth_keeps_no_field_in_the_high_band_and_says_why() -> None:
    page = _page([0.98] * 4 + [0.4] * 16, empties=3)
    checked = apply_page_checks(page, {"child_name": "person_name"})
    read = [r["child_name"] for r in checked if r["child_name"].value]
    assert max(p.confidence for p in read) == CONTRADICTION_MAX_CONFIDENCE
    assert all(PAGE_OUT_OF_DEPTH.message in p.messages for p in read if p.confidence == CONTRADICTION_MAX_CONFIDENCE)
    assert all(p.confidence == 0.4 and not p.messages for p in read if p.confidence < CONTRADICTION_MAX_CONFIDENCE)
    # empty cells are not readings: untouched (their confidence is about ink, not about the hand)
    assert [r["child_name"].confidence for r in checked if not r["child_name"].value] == [0.99] * 3
    assert page_depth_warning(checked) == PageWarning("reading_out_of_depth")


def test_an_ordinary_page_is_left_alone() -> None:
    page = _page([0.98] * 15 + [0.4] * 5)
    assert apply_page_checks(page, {"child_name": "person_name"}) == page
    assert page_depth_warning(page) is None


def test_the_warning_has_a_vietnamese_label() -> None:
    label = page_warning_vi(PageWarning("reading_out_of_depth"))
    assert label != "reading_out_of_depth" and "chắc chắn" in label


def test_a_real_page_out_of_depth_gets_the_page_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline's plumbing on a real rendered page: with the floor above any page's share, the
    page is out of depth, carries the warning, and no read field stays in the high band."""
    _, _, data = render_page_encoded("khai_sinh", random.Random(3), PageOptions(rows=5, jpeg_quality=80))
    assert data is not None
    image = load_images(data, "page.jpg")[0].image
    layout = get_book_type("khai_sinh").layout
    ordinary = process_page(image, layout, build_reader())
    read = [p for r in ordinary.proposals for p in r.values() if p.value]
    assert len(read) >= PAGE_DEPTH_MIN_FIELDS and any(p.confidence >= HIGH for p in read)
    assert "reading_out_of_depth" not in encode_warnings(ordinary.analysis.warnings)

    monkeypatch.setattr(ocr.confidence, "PAGE_DEPTH_MIN_HIGH_SHARE", 1.01)
    doubted = process_page(image, layout, build_reader())
    assert "reading_out_of_depth" in encode_warnings(doubted.analysis.warnings)
    assert all(p.confidence <= CONTRADICTION_MAX_CONFIDENCE for r in doubted.proposals for p in r.values() if p.value)
