"""Crop/deskew on synthetic scans: the angle comes back, the bed is gone, the transform is right."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ocr.image.deskew import compose, deskew_page, find_page_region, map_points
from samples import PageOptions, render_page

ANGLES = (-4.0, -1.5, 0.0, 2.0, 4.5)


@cache
def _scan(skew: float, border: bool = True, ruling: str = "normal", seed: int = 7):
    # Slightly smaller pages than the benchmark keep this module fast; deskew does not care.
    options = PageOptions(skew_deg=skew, border=border, ruling=ruling, width=1800, height=1240, filled_rows=6)
    return render_page("khai_sinh", seed + int(skew * 10), options)


@pytest.mark.parametrize("skew", ANGLES)
def test_recovers_the_skew_angle_from_the_content(skew: float):
    image, truth = _scan(skew)
    result = deskew_page(image)
    # The scan was turned counter-clockwise by skew: levelling turns it back by -skew.
    assert abs(result.angle_deg + truth["skew_deg"]) < 0.15
    # The printed header's top edge is level in the deskewed image (within 2 px over ~1700 px).
    flat_to_deskewed = compose(result.transform, np.array(truth["flat_to_scan"]))
    x, y, w, _ = truth["header_box"]
    left, right = map_points(flat_to_deskewed, np.array([[x, y], [x + w, y]]))
    assert abs(left[1] - right[1]) < 2.0
    height, width = result.image.shape[:2]
    assert 0 <= left[0] < right[0] <= width and 0 <= left[1] <= height


def test_dark_scanner_bed_is_cropped_away():
    image, truth = _scan(2.0)
    region = find_page_region(image)
    assert region.border_found
    result = deskew_page(image)
    height, width = result.image.shape[:2]
    strip = max(2, width // 100)
    edges = np.concatenate([result.image[:strip].ravel(), result.image[-strip:].ravel(),
                            result.image[:, :strip].ravel(), result.image[:, -strip:].ravel()])
    assert np.median(edges) > 180  # paper or white fill, not the ~30-grey bed
    # The whole paper is kept: the flat page corners land inside the deskewed image.
    flat_to_deskewed = compose(result.transform, np.array(truth["flat_to_scan"]))
    w, h = truth["flat_width"], truth["flat_height"]
    corners = map_points(flat_to_deskewed, np.array([[0, 0], [w, 0], [w, h], [0, h]]))
    assert (corners >= -8).all() and (corners[:, 0] <= width + 8).all() and (corners[:, 1] <= height + 8).all()


def test_page_on_a_white_lid_is_levelled_and_cropped_to_the_paper():
    image, truth = _scan(-3.0, border=False)
    result = deskew_page(image)
    assert not result.border_found
    assert abs(result.angle_deg + truth["skew_deg"]) < 0.15
    # The levelled canvas would carry white corners and lid; the crop keeps just the paper.
    flat_to_deskewed = compose(result.transform, np.array(truth["flat_to_scan"]))
    w, h = truth["flat_width"], truth["flat_height"]
    top_left, bottom_right = map_points(flat_to_deskewed, np.array([[0, 0], [w, h]]))
    height, width = result.image.shape[:2]
    assert abs(top_left[0]) < 12 and abs(top_left[1]) < 12
    assert abs(bottom_right[0] - width) < 12 and abs(bottom_right[1] - height) < 12


def test_faint_rulings_still_give_the_angle():
    image, truth = _scan(-2.5, ruling="faint")
    assert abs(deskew_page(image).angle_deg + truth["skew_deg"]) < 0.15


def test_blank_image_does_not_crash():
    blank = np.full((600, 900, 3), 228, np.uint8)
    result = deskew_page(blank)
    assert result.angle_deg == 0.0
    assert result.image.shape[0] >= 600 and result.image.shape[1] >= 900
