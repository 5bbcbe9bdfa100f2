"""Generator families (samples/families.py): every family's truth is exact and each axis does what it says."""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from samples.book import generate_book
from samples.build_committed import BOOKS_DIR, OPTIONS, PAGES, SEED
from samples.families import FAMILIES, Family, family, select
from samples.fonts import handwriting_fonts
from samples.render import render_page
from workbench.book_types import get_book_type

HALF = {"width": 1200, "height": 825}  # half size: same layout rules, 4x fewer pixels
TOLERANCE = 3  # px: a stroke may touch the ruling


@cache
def family_page(name: str, book_type: str = "khai_sinh", seed: int = 3) -> dict[str, Any]:
    rng = random.Random(f"{name}:{seed}")
    options = replace(family(name).options(rng), **HALF)
    _, truth = render_page(book_type, rng, options)
    return truth


def _available(f: Family) -> Family:
    if (why := f.unavailable()) is not None:
        pytest.skip(why)
    return f


@pytest.mark.parametrize("name", [f.name for f in FAMILIES])
def test_family_truth_is_consistent(name: str) -> None:
    _available(family(name))
    truth = family_page(name)
    hx, hy, hw, hh = truth["header_box"]
    columns = truth["column_boxes"]
    assert len(columns) == len(get_book_type("khai_sinh").columns)
    # Column boxes tile the table below the header, edge to edge.
    assert columns[0][0] == hx and columns[-1][0] + columns[-1][2] == hx + hw
    for (x0, y0, w0, h0), (x1, y1, _, h1) in zip(columns, columns[1:], strict=False):
        assert x0 + w0 == x1 and (y0, h0) == (y1, h1) and w0 > 0
    assert all(c[1] == hy + hh for c in columns)
    records = truth["records"]
    assert records, name
    assert records[0]["box"][1] == hy + hh  # the first row starts right under the header
    for record in records:
        rx, ry, rw, rh = record["box"]
        for (cx, _, cw, _), (key, field) in zip(columns, record["fields"].items(), strict=True):
            assert " ".join(field["lines"]) == field["value"], key
            assert len(field["lines"]) == len(field["text_boxes"]) <= 3, key
            for bx, by, bw, bh in field["text_boxes"]:
                centre = (bx + bw / 2, by + bh / 2)
                assert cx - TOLERANCE <= centre[0] <= cx + cw + TOLERANCE, (name, key)
                assert ry - TOLERANCE <= centre[1] <= ry + rh + TOLERANCE, (name, key)


def test_short_header_is_shorter_than_a_row() -> None:
    truth = family_page("short_header")
    row_h = truth["records"][0]["box"][3]
    assert truth["header_box"][3] < row_h
    assert truth["variation"]["header_to_row"] < 1.0


def test_jittered_columns_leave_the_hints() -> None:
    truth = family_page("jittered_columns")
    hints = [c.width for c in get_book_type("khai_sinh").columns]
    widths = [c[2] for c in truth["column_boxes"]]
    off = [abs(w / sum(widths) - h / sum(hints)) / (h / sum(hints)) for w, h in zip(widths, hints, strict=True)]
    assert max(off) > 0.10


def test_numbered_header_has_two_rows() -> None:
    truth = family_page("numbered_header")
    _, hy, _, hh = truth["header_box"]
    assert truth["variation"]["header_rows"] == 2
    assert hy < truth["variation"]["label_bottom"] < hy + hh
    assert truth["variation"]["header_to_row"] >= 1.4


def test_wrapped_narrow_wraps_and_narrows() -> None:
    truth = family_page("wrapped_narrow")
    counts = [len(f["lines"]) for r in truth["records"] for f in r["fields"].values()]
    assert max(counts) >= 2
    keys = [c.key for c in get_book_type("khai_sinh").columns]
    hints = {c.key: c.width for c in get_book_type("khai_sinh").columns}
    widths = dict(zip(keys, (c[2] for c in truth["column_boxes"]), strict=True))
    share = widths["sex"] / sum(widths.values())
    assert share < 0.9 * hints["sex"] / sum(hints.values())  # printed narrower than the template says


def test_stamps_and_margin_notes_stay_out_of_the_truth_rows() -> None:
    truth = family_page("stamped")
    variation = truth["variation"]
    assert variation["stamps"] and variation["margin_notes"]
    hx, hy, hw, hh = truth["header_box"]
    table_bottom = truth["column_boxes"][0][1] + truth["column_boxes"][0][3]
    for note in variation["margin_notes"]:
        assert note["value"] and note["lines"] == [note["value"]]
        for _, by, _, bh in note["text_boxes"]:
            assert by + bh <= hy + TOLERANCE or by >= table_bottom - TOLERANCE  # outside the table


def test_real_hands_paste_labelled_lines() -> None:
    _available(family("real_hands"))
    truth = family_page("real_hands")
    cells = truth["variation"]["real_cells"]
    assert cells, "no real line was pasted"
    row, key = cells[0]
    field = truth["records"][row - 1]["fields"][key]
    assert field["value"] and " ".join(field["lines"]) == field["value"]


def test_unseen_hands_write_only_in_held_out_hands() -> None:
    """The hand family is written in held-out fonts only, none of which a tuning family uses."""
    truth = family_page("unseen_hands")
    held_out = {p.name for p in handwriting_fonts("held_out")}
    hands = set(truth["variation"]["hands"])
    assert hands and hands <= held_out
    assert not held_out & {p.name for p in handwriting_fonts("tuning")}
    assert family("unseen_hands").held_out and family("unseen_hands").axis == "hand"
    assert "unseen_hands" in {f.name for f in select("held_out")} - {f.name for f in select("tuned")}
    # Its pages are the classic page otherwise: no layout, ruling or mark axis is set.
    assert truth["variation"]["header_rows"] == 1 and not truth["variation"]["stamps"]


def test_family_flags_and_selection() -> None:
    held = {f.name for f in select("held_out")}
    assert {"numbered_header", "wrapped_narrow", "stamped"} <= held
    assert "classic" in {f.name for f in select("tuned")} and not held & {f.name for f in select("tuned")}
    assert [f.name for f in select("classic,stamped")] == ["classic", "stamped"]
    with pytest.raises(KeyError):
        family("nope")


def test_default_options_regenerate_the_committed_book_byte_identically() -> None:
    """The new axes draw nothing unless set: the committed khai_sinh book comes back byte for byte."""
    folder = BOOKS_DIR / "khai_sinh"
    fresh = generate_book(Path(tempfile.mkdtemp()), "khai_sinh", pages=PAGES, seed=SEED, options=OPTIONS)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    assert (fresh / "truth.json").read_bytes() == (folder / "truth.json").read_bytes()
    for page in truth["pages"]:
        assert (fresh / page["file"]).read_bytes() == (folder / page["file"]).read_bytes(), page["file"]
