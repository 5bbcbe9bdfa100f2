"""Synthetic ledger pages: truth structure, geometry, and that each defect option does what it says."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from samples import PageOptions, generate_all_books, generate_book, render_page
from samples.build_committed import BOOKS_DIR, OPTIONS, PAGES, SEED
from samples.fonts import (
    HAND_GROUPS,
    HANDWRITING_PACKAGES,
    HELD_OUT_HANDS,
    TUNING_HANDS,
    VENDORED_DIR,
    handwriting_fonts,
    missing_chars,
)
from workbench.book_types import all_book_types, get_book_type

BOOK_TYPES = list(all_book_types())
SMALL = {"width": 1200, "height": 825}  # half size: same layout rules, 4x fewer pixels


def to_image(truth: dict, x: float, y: float) -> tuple[float, float]:
    m = np.array(truth["flat_to_scan"])
    return tuple(m @ np.array([x, y, 1.0]))


def gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def ink_pixels(image: np.ndarray, truth: dict, box: list[float]) -> int:
    """Pixels clearly darker than the paper in the image region a flat-coordinate box maps to.

    Relative to the region's own median (mostly paper), so faded ink and uneven light still
    count while sensor noise and paper grain (a few grey levels) do not.
    """
    x, y, w, h = box
    pts = np.array([to_image(truth, px, py) for px in (x, x + w) for py in (y, y + h)])
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    region = gray(image)[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1]
    return int((region < np.median(region) - 25).sum())


def parse_date(text: str) -> date | None:
    parts = [int(p) for p in re.split(r"[/.-]", text)]
    return date(parts[2], parts[1], parts[0]) if len(parts) == 3 else None


@pytest.mark.parametrize("book_type", BOOK_TYPES)
def test_page_truth_structure(book_type: str) -> None:
    image, truth = render_page(book_type, 11, PageOptions(), first_registration_no=41)
    keys = get_book_type(book_type).keys
    assert image.shape == (1650, 2400, 3) and image.dtype == np.uint8
    assert (truth["width"], truth["height"]) == (2400, 1650)
    assert -5 <= truth["skew_deg"] <= 5
    assert len(truth["column_boxes"]) == len(keys)
    records = truth["records"]
    assert [r["row_index"] for r in records] == list(range(1, 11))
    assert [r["fields"]["registration_no"]["value"] for r in records] == [str(n) for n in range(41, 51)]
    for corner in ((0, 0), (2400, 0), (0, 1650), (2400, 1650)):
        x, y = to_image(truth, *corner)
        assert 0 <= x <= 2400 and 0 <= y <= 1650
    hx, hy, hw, hh = truth["header_box"]
    for rec in records:
        assert list(rec["fields"]) == keys
        x, y, w, h = rec["box"]
        assert 0 <= x and x + w <= 2400 and hy + hh <= y and y + h <= 1650
        for key, field in rec["fields"].items():
            value = field["value"]
            assert value == unicodedata.normalize("NFC", " ".join(value.split())), key
            assert bool(value) == bool(field["text_boxes"]), key
            assert len(field["lines"]) == len(field["text_boxes"]), key
            assert " ".join(field["lines"]) == value, key  # the wrapped lines spell the value
            for bx, by, bw, bh in field["text_boxes"]:
                assert bw > 0 and bh > 0 and 0 <= bx and bx + bw <= 2400
                # Ink stays in its row (a stroke may cross the ruling by a little).
                assert y - 0.3 * h <= by and by + bh <= y + 1.3 * h, key
        reg = parse_date(rec["fields"]["registration_date"]["value"])
        assert reg is not None and reg.year == 2003
        for key, field in rec["fields"].items():
            if "date" in key and key != "registration_date" and field["value"]:
                born = parse_date(field["value"])
                assert born is None or born <= reg, key


def test_ink_is_where_truth_says() -> None:
    image, truth = render_page("khai_sinh", 5, PageOptions(rotate=90, ruling="none", stains=0))
    assert image.shape == (2400, 1650, 3)  # turned page: dimensions swapped
    assert (truth["width"], truth["height"]) == (1650, 2400)
    for corner in ((0, 0), (2400, 0), (0, 1650), (2400, 1650)):
        x, y = to_image(truth, *corner)
        assert 0 <= x <= 1650 and 0 <= y <= 2400
    filled = [f for r in truth["records"] for f in r["fields"].values() if f["text_boxes"]]
    assert min(ink_pixels(image, truth, f["text_boxes"][0]) for f in filled) >= 10
    empty_cells = [
        [cx, r["box"][1], cw, r["box"][3]]
        for r in truth["records"]
        for (cx, _, cw, _), f in zip(truth["column_boxes"], r["fields"].values(), strict=True)
        if not f["value"]
    ]
    assert empty_cells, "the generator should leave some cells empty"
    shrunk = [[x + 0.25 * w, y + 0.25 * h, 0.5 * w, 0.5 * h] for x, y, w, h in empty_cells]
    assert max(ink_pixels(image, truth, b) for b in shrunk) <= 5


def _ruling_contrast(image: np.ndarray, truth: dict) -> float:
    """Mean contrast (grey levels) of the interior vertical rulings against the paper beside them."""
    g = gray(image).astype(np.float32)
    samples = []
    for x, y, _, h in truth["column_boxes"][1:]:
        for fy in np.linspace(y + 5, y + h - 5, 60):
            ix, iy = (int(v) for v in to_image(truth, x, fy))
            line = g[iy - 1:iy + 2, ix - 2:ix + 3].min()
            paper = np.median(g[iy - 1:iy + 2, ix + 8:ix + 20])
            samples.append(paper - line)
    return float(np.mean(samples))


def test_ruling_options() -> None:
    common = {"skew_deg": 0.0, "filled_rows": 0, "stains": 0, "noise": 0.0, **SMALL}
    contrast = {
        mode: _ruling_contrast(*render_page("khai_tu", 3, PageOptions(ruling=mode, **common)))
        for mode in ("normal", "faint", "none")
    }
    assert contrast["normal"] > 80
    assert contrast["none"] < 8
    assert 5 < contrast["faint"] < contrast["normal"] / 3


def test_skew_is_recorded_and_applied() -> None:
    image, truth = render_page("ket_hon", 8, PageOptions(skew_deg=4.0, filled_rows=0, **SMALL))
    assert truth["skew_deg"] == 4.0
    m = np.array(truth["flat_to_scan"])
    assert np.degrees(np.arctan2(m[0, 1], m[0, 0])) == pytest.approx(4.0, abs=1e-3)
    # The printed top ruling of the table is dark all along its skewed image position.
    x, y, w, _ = truth["header_box"]
    g = gray(image)
    pts = [to_image(truth, fx, y) for fx in np.linspace(x + 10, x + w - 10, 40)]
    assert all(g[int(py) - 2:int(py) + 3, int(px)].min() < 120 for px, py in pts)


def test_blank_and_partly_filled_pages() -> None:
    image, truth = render_page("khai_sinh", 2, PageOptions(blank=True, stains=0, **SMALL))
    assert truth["blank"] and truth["records"] == [] and truth["header_box"] is None
    tiles = [[x, y, 100, 100] for x in range(40, 1060, 100) for y in range(40, 685, 100)]
    assert max(ink_pixels(image, truth, t) for t in tiles) <= 5  # paper only: no print, no ink
    printed, truth = render_page("khai_sinh", 2, PageOptions(stains=0, **SMALL))
    assert max(ink_pixels(printed, truth, t) for t in tiles) > 100  # the same test sees a used page
    _, truth = render_page("khai_sinh", 2, PageOptions(rows=8, filled_rows=3, **SMALL))
    assert [r["row_index"] for r in truth["records"]] == [1, 2, 3]


def test_rotate_180_maps_top_left_to_bottom_right() -> None:
    _, truth = render_page("khai_sinh", 4, PageOptions(rotate=180, skew_deg=0.0, filled_rows=1, **SMALL))
    x, y = to_image(truth, 0, 0)
    assert x > 1100 and y > 750


def test_generate_book_runs_forward(tmp_path: Path) -> None:
    out = generate_book(tmp_path / "book", "khai_tu", pages=2, seed=3, unit="Xã Đại Lãnh", year=1998,
                        volume=2, options=PageOptions(**SMALL))
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["book"] == {"book_type": "khai_tu", "unit": "Xã Đại Lãnh", "year": 1998, "volume": 2, "seed": 3}
    assert [p["file"] for p in truth["pages"]] == ["page_001.jpg", "page_002.jpg"]
    assert all(cv2.imread(str(out / p["file"])).shape == (825, 1200, 3) for p in truth["pages"])
    records = [r for p in truth["pages"] for r in p["records"]]
    numbers = [int(r["fields"]["registration_no"]["value"]) for r in records]
    assert numbers == list(range(1, len(records) + 1))
    dates = [parse_date(r["fields"]["registration_date"]["value"]) for r in records]
    assert dates == sorted(dates) and all(d.year == 1998 for d in dates)


def test_generate_all_books(tmp_path: Path) -> None:
    paths = generate_all_books(tmp_path, pages=1, seed=1, options=PageOptions(filled_rows=2, **SMALL))
    assert [p.name for p in paths] == BOOK_TYPES
    assert all((p / "truth.json").exists() and (p / "page_001.jpg").exists() for p in paths)


def test_handwriting_fonts_cover_vietnamese() -> None:
    fonts = handwriting_fonts()
    assert len(fonts) >= 3
    assert all(missing_chars(f) == "" for f in fonts)
    assert missing_chars(fonts[0], "ư\u4e00") == "\u4e00"  # the check does detect a missing glyph


def test_hand_groups_are_fixed_and_disjoint() -> None:
    """The default stays the five packaged fonts (committed books); held-out hands never tune."""
    assert HAND_GROUPS["packaged"] == HANDWRITING_PACKAGES == TUNING_HANDS[:5]
    assert handwriting_fonts() == handwriting_fonts("packaged")
    assert not set(TUNING_HANDS) & set(HELD_OUT_HANDS) and len(HELD_OUT_HANDS) >= 5
    tuning, held_out = handwriting_fonts("tuning"), handwriting_fonts("held_out")
    assert tuning[:5] == handwriting_fonts() and not set(tuning) & set(held_out)
    # Every hand of every group passed the glyph-by-glyph check: none was silently dropped.
    assert handwriting_fonts("all") == tuning + held_out
    assert len(handwriting_fonts("all")) == len(TUNING_HANDS) + len(HELD_OUT_HANDS)
    with pytest.raises(ValueError):
        handwriting_fonts("everything")


def test_vendored_fonts_carry_their_licence_and_stay_small() -> None:
    vendored = sorted(VENDORED_DIR.glob("*.ttf"))
    assert {p.stem for p in vendored} == {h for h in TUNING_HANDS + HELD_OUT_HANDS if not h.startswith("fontpkg_")}
    for path in vendored:
        licence = path.with_name(f"{path.stem}.OFL.txt").read_text(encoding="utf-8")
        assert "SIL OPEN FONT LICENSE" in licence.upper(), path.name
    assert sum(p.stat().st_size for p in vendored) < 3_000_000


def test_page_fonts_option_picks_the_writers_hands() -> None:
    font = handwriting_fonts("held_out")[0]
    _, truth = render_page("khai_sinh", 4, PageOptions(fonts=(font,), rows=3, **SMALL))
    assert truth["variation"]["hands"] == [font.name]
    assert any(f["lines"] for r in truth["records"] for f in r["fields"].values())


@pytest.mark.parametrize("book_type", BOOK_TYPES)
def test_committed_books_are_current(book_type: str) -> None:
    folder = BOOKS_DIR / book_type
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert truth["book"]["book_type"] == book_type and truth["book"]["seed"] == SEED
    assert len(truth["pages"]) == PAGES
    for page in truth["pages"]:
        size = (folder / page["file"]).stat().st_size
        assert 150_000 < size < 600_000
        assert -3 <= page["skew_deg"] <= 3 and page["ruling"] == "normal"
    if book_type == "khai_sinh":  # regenerating (one type, to stay fast) gives the same book
        fresh = generate_book(Path(pytest.importorskip("tempfile").mkdtemp()), book_type, pages=PAGES,
                              seed=SEED, options=OPTIONS)
        again = json.loads((fresh / "truth.json").read_text(encoding="utf-8"))
        assert [len(p["records"]) for p in again["pages"]] == [len(p["records"]) for p in truth["pages"]]
