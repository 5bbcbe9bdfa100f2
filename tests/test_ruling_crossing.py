"""Writing begun left of a column ruling stays whole in its own cell (a rendered page, the real reader)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ocr.image.deskew import compose, map_points
from ocr.layout.page import analyze_page
from ocr.read.decoding import greedy_decode
from ocr.read.engines.asternet import get_asternet
from ocr.settings import CellSettings
from ocr.types import PageAnalysis
from samples import PageOptions, render_page
from workbench.book_types import get_book_type

BOOK = "khai_sinh"
LAYOUT = get_book_type(BOOK).layout
SEED = 8  # this page has five written lines begun 9-15 px left of their column's ruling
PAD = CellSettings().padding


@cache
def _analysis() -> tuple[PageAnalysis, dict]:
    image, truth = render_page(BOOK, SEED, PageOptions(skew_deg=0.8, border=False, stains=0))
    return analyze_page(image, LAYOUT), truth


def _crossing_lines(analysis: PageAnalysis, truth: dict) -> list[tuple[int, int, int, float, float]]:
    """(record, column, line, page x where it begins, its width on the page) of every line
    begun >= 8 px left of its column (flat page px)."""
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    found = []
    for r, record in enumerate(truth["records"]):
        for c, key in enumerate(LAYOUT.keys):
            for i, (x, y, w, h) in enumerate(record["fields"][key]["text_boxes"]):
                if truth["column_boxes"][c][0] - x >= 8:
                    corners = map_points(flat_to_page, np.array([[x, y], [x + w, y + h]], float))
                    found.append((r, c, i, float(corners[0, 0]), float(corners[1, 0] - corners[0, 0])))
    return found


def test_line_across_a_ruling_is_cut_whole_and_the_neighbour_gets_none_of_it():
    analysis, truth = _analysis()
    flat_to_page = compose(analysis.transform, np.array(truth["flat_to_scan"]))
    crossing = _crossing_lines(analysis, truth)
    assert len(crossing) >= 4  # the page still has its crossings (renderer unchanged)
    assert len(analysis.records) == len(truth["records"])
    for r, c, i, begins, written in crossing:
        cells = analysis.records[r].cells
        line = cells[c].lines[i]
        # The part left of the ruling (a whole first glyph, ~15 px) is in the crop.
        assert line.shape[1] - 2 * PAD >= written - 6, (r, LAYOUT.keys[c])
        # ... and not in the left neighbour's: its lines end before this line begins.
        neighbour = truth["records"][r]["fields"][LAYOUT.keys[c - 1]]["text_boxes"]
        for crop, (x, y, _, _) in zip(cells[c - 1].lines, neighbour, strict=False):
            start = map_points(flat_to_page, np.array([[x, y]], float))[0, 0]
            assert start + crop.shape[1] - 2 * PAD <= begins + 3, (r, LAYOUT.keys[c - 1])


@pytest.mark.model
def test_number_and_date_across_a_ruling_read_whole():
    """Record 6: the date begins left of its ruling. Cut by the ruling, the date's first "0"
    was read "18/09/2003" and its left half went to the registration number ("60")."""
    analysis, truth = _analysis()
    fields = truth["records"][5]["fields"]
    assert fields["registration_date"]["value"] == "08/09/2003" and fields["registration_no"]["value"] == "6"
    cells = analysis.records[5].cells
    reader = get_asternet()
    for key in ("registration_date", "registration_no"):
        lines = cells[LAYOUT.keys.index(key)].lines
        assert [greedy_decode(lp).text for lp in reader.line_log_probs(lines)] == [fields[key]["value"]]
