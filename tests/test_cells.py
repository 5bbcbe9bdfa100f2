"""Line crops of ocr.layout.cells keep the writing's faint ink, whiten foreign ink and rulings, and leave ink
contrast alone; glyphs written across a column ruling stay whole and go to the text they belong to."""

from __future__ import annotations

import cv2
import numpy as np

from ocr.image.imaging import ink_mask
from ocr.layout.cells import InkComponents, assign_components, cut_cell, find_components
from ocr.layout.ruling_crossing import rejoin_cut_strokes
from ocr.settings import CellSettings, GridSettings
from ocr.types import Box

PAPER, INK, FAINT = 205, 70, 196  # FAINT is too light for the ink mask, as a scanned hairline
ROW_HEIGHT = 80.0


def _cell_scan() -> tuple[np.ndarray, Box]:
    """A grey cell: two strokes joined by a faint hairline, and a neighbour's stroke poking in."""
    gray = np.full((80, 200), PAPER, np.uint8)
    cv2.line(gray, (40, 20), (40, 50), INK, 3)
    cv2.line(gray, (50, 20), (50, 50), INK, 3)
    cv2.line(gray, (50, 20), (120, 50), INK, 3)  # the crop box reaches past x=112
    cv2.line(gray, (42, 35), (48, 35), FAINT, 1)  # the hairline between the two strokes
    gray[22:26, 112:116] = INK  # a neighbour's stroke: its own component, centre outside the cell
    return gray, Box(0, 0, 110, 80)


def test_line_crop_keeps_faint_joins_and_whitens_foreign_ink() -> None:
    gray, box = _cell_scan()
    grid = GridSettings()
    text = ink_mask(gray, grid.ink_block, grid.ink_offset)
    assert text[35, 45] == 0  # the hairline is not in the text mask
    components = find_components(text)
    ids = assign_components(components, [box], 6, ROW_HEIGHT)[0]
    cell = cut_cell(gray, components, ids, "full_name", box, ROW_HEIGHT, CellSettings())

    assert not cell.is_empty and len(cell.lines) == 1
    line = cell.lines[0]
    x0, y0 = int(components.boxes[ids, 0].min()) - 2, int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding

    def at(y: int, x: int) -> int:
        return int(line[y - y0 + pad, x - x0 + pad])

    assert at(35, 45) < 250  # the faint join survives
    assert at(23, 113) == 255  # the neighbour's stroke is whitened
    assert np.median(line) >= 250  # paper scaled to white, to match the white pad
    # Ink keeps its contrast (no black-point stretch): the darkest ink is ink / paper, not black.
    assert abs(int(line.min()) - round(INK * 255 / PAPER)) <= 3
    assert cv2.countNonZero(255 - line) > 0


def test_stroke_gap_zero_drops_the_faint_join() -> None:
    gray, box = _cell_scan()
    grid = GridSettings()
    components = find_components(ink_mask(gray, grid.ink_block, grid.ink_offset))
    ids = assign_components(components, [box], 6, ROW_HEIGHT)[0]
    cell = cut_cell(gray, components, ids, "full_name", box, ROW_HEIGHT, CellSettings(stroke_gap=0))
    x0, y0 = int(components.boxes[ids, 0].min()) - 2, int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding
    assert cell.lines[0][35 - y0 + pad, 45 - x0 + pad] == 255


RULING, EDGE, HALF_BAND = 50, 120, 4  # a printed column ruling at x=120; the grid removes +-4 px
CELLS = [Box(0, 0, EDGE, 80), Box(EDGE, 0, 240 - EDGE, 80)]


def _ruled_scan() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two cells split by a ruling (gray, text mask and ruling mask as ocr.layout.grid leaves them).

    Top line: a "7" begun left of the ruling (its bar crosses it, most of its ink is left), then
    the right cell's word 4 px after it; the left cell's own word is far off. Bottom line: the
    left cell's word, one stroke, whose tail pokes across the ruling; the right cell's word
    begins 4 px after the tail.
    """
    gray = np.full((80, 240), PAPER, np.uint8)
    cv2.line(gray, (EDGE, 0), (EDGE, 79), RULING, 3)
    cv2.line(gray, (20, 15), (50, 30), INK, 3)  # the left cell's own word, far from the "7"
    cv2.line(gray, (104, 14), (128, 14), INK, 3)  # the 7: bar across the ruling ...
    cv2.line(gray, (112, 14), (106, 34), INK, 3)  # ... and its stem, left of it
    for x in (137, 147, 157):  # the right cell's word
        cv2.line(gray, (x, 14), (x, 30), INK, 3)
    cv2.line(gray, (137, 22), (157, 22), INK, 3)
    cv2.line(gray, (60, 60), (126, 60), INK, 3)  # bottom line: the left word with its tail
    for x in (60, 70, 80, 90, 100):
        cv2.line(gray, (x, 50), (x, 60), INK, 3)
    cv2.line(gray, (130, 52), (170, 64), INK, 3)  # the right cell's bottom word
    grid = GridSettings()
    ink = ink_mask(gray, grid.ink_block, grid.ink_offset)
    band = np.zeros_like(ink)
    band[:, EDGE - HALF_BAND : EDGE + HALF_BAND + 1] = 255
    rulings = cv2.bitwise_and(band, ink)
    return gray, cv2.subtract(ink, rulings), rulings


def _owner(components: InkComponents, owned: list[np.ndarray], y: int, x: int) -> int:
    label = components.labels[y, x]
    return next(i for i, ids in enumerate(owned) if label in ids)


def test_a_stroke_cut_by_a_removed_ruling_is_one_component_again() -> None:
    gray, text, rulings = _ruled_scan()
    assert find_components(text).labels[14, 108] != find_components(text).labels[14, 127]  # cut apart
    rejoined = rejoin_cut_strokes(text, rulings, [0, EDGE, 240], [0, 80])
    labels = find_components(rejoined).labels
    assert labels[14, 108] == labels[14, 127] != 0  # the 7's bar, across the ruling
    assert labels[60, 100] == labels[60, 125] != 0  # the bottom word's tail
    assert not rejoined[40, EDGE - 1 : EDGE + 2].any()  # the ruling between the lines stays removed
    assert not rejoined[70:, EDGE - 1 : EDGE + 2].any()


def test_a_glyph_across_a_cell_edge_goes_to_the_text_it_is_written_next_to() -> None:
    gray, text, rulings = _ruled_scan()
    components = find_components(rejoin_cut_strokes(text, rulings, [0, EDGE, 240], [0, 80]), rulings)
    assert components.centres[components.labels[14, 108], 0] < EDGE  # the 7's mass is left of the ruling
    owned = assign_components(components, CELLS, 6, ROW_HEIGHT)
    assert _owner(components, owned, 14, 108) == 1  # the 7 goes with the word right after it
    assert _owner(components, owned, 25, 40) == 0  # the left cell's own word stays
    assert _owner(components, owned, 60, 100) == 0  # a word's tail poking in does not take it over
    assert _owner(components, owned, 58, 150) == 1


def test_the_ruling_stays_white_in_the_crop_where_no_stroke_crosses_it() -> None:
    gray, text, rulings = _ruled_scan()
    components = find_components(rejoin_cut_strokes(text, rulings, [0, EDGE, 240], [0, 80]), rulings)
    ids = assign_components(components, CELLS, 6, ROW_HEIGHT)[1]
    cell = cut_cell(gray, components, ids, "birth_date", CELLS[1], ROW_HEIGHT, CellSettings())
    top = cell.lines[0]
    x0 = int(components.boxes[ids, 0].min()) - 2
    y0 = int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding

    def at(y: int, x: int) -> int:
        return int(top[y - y0 + pad, x - x0 + pad])

    assert x0 < EDGE - 10  # the whole 7 is in the right cell's crop
    assert at(30, 107) < 200  # its stem, left of the ruling
    assert at(19, EDGE) == 255  # the ruling just below the bar, inside the stroke halo, is white
    assert at(14, EDGE) < 200  # where the bar crosses it, the stroke is kept ...
    assert at(14, EDGE) >= at(14, 110) - 3  # ... no darker than the writing's own ink


def _two_line_scan() -> tuple[np.ndarray, Box]:
    """A cell with a name wrapped onto two lines (row height 100).

    Line 1 (rows 20-40): word A at x 20-80, whose descender runs down into word B of line 2 (rows
    65-85, x 60-140), so A and B are one component; word C at x 120-180, with a dot under it just
    past the emptiest row between the lines. Line 2 ends with a comma at its baseline, under C.
    """
    gray = np.full((110, 220), PAPER, np.uint8)
    for x in range(20, 81, 10):  # word A
        cv2.line(gray, (x, 20), (x, 40), INK, 3)
    cv2.line(gray, (20, 40), (80, 40), INK, 3)
    cv2.line(gray, (75, 40), (75, 66), INK, 3)  # A's descender, touching B
    for x in range(120, 181, 10):  # word C
        cv2.line(gray, (x, 20), (x, 40), INK, 3)
    cv2.line(gray, (120, 30), (180, 30), INK, 3)
    gray[45:49, 125:129] = INK  # the dot under C
    for x in range(60, 141, 10):  # word B
        cv2.line(gray, (x, 65), (x, 85), INK, 3)
    cv2.line(gray, (60, 65), (140, 65), INK, 3)
    cv2.line(gray, (152, 82), (149, 90), INK, 3)  # the comma after B
    return gray, Box(0, 0, 220, 110)


def test_a_word_joined_to_the_line_below_is_cut_between_the_lines_and_marks_go_to_their_letters() -> None:
    gray, box = _two_line_scan()
    grid = GridSettings()
    components = find_components(ink_mask(gray, grid.ink_block, grid.ink_offset))
    ids = assign_components(components, [box], 6, 100.0)[0]
    assert components.labels[30, 20] == components.labels[75, 100] != 0  # A and B are one component
    cell = cut_cell(gray, components, ids, "full_name", box, 100.0, CellSettings())
    assert len(cell.lines) == 2
    top, bottom = cell.lines
    pad = CellSettings().padding

    def inked_columns(line: np.ndarray) -> np.ndarray:
        return np.flatnonzero((line < 200).any(axis=0))

    # Line 1 holds A (from x 20, with its whole descender) through C (to x 180), and the dot under C.
    assert inked_columns(top)[-1] - inked_columns(top)[0] >= 155
    top_left, top_row = 20 - 2 - pad, 20 - 2 - pad  # the crop starts 2 px (and the pad) before A

    def top_at(y: int, x: int) -> int:
        return int(top[y - top_row, x - top_left])

    assert top_at(47, 127) < 200  # the dot
    assert top_at(60, 75) < 200  # A's descender, below the emptiest row between the lines
    # Line 2 holds B and its comma, and no stroke of C.
    assert 85 <= inked_columns(bottom)[-1] - inked_columns(bottom)[0] <= 100  # x 60 to the comma at 152


def test_faint_mark_pieces_above_a_line_are_kept_and_specks_among_or_under_it_are_not() -> None:
    """Pale thin marks break in the text mask into pieces smaller than a speck, which no cell keeps:
    "Nguyễn Hoài Hằng" was cut as "Nguyen Hoai Hang". Pieces over the line's letters are its marks;
    crumbs among or under them (a stamp's, the paper's) are not."""
    gray = np.full((60, 120), PAPER, np.uint8)
    cv2.line(gray, (15, 10), (15, 40), INK, 3)  # a capital's stem: the line's top
    for x in range(25, 66, 10):  # the letters, core rows 25-40
        cv2.line(gray, (x, 25), (x, 40), INK, 3)
    cv2.line(gray, (25, 25), (65, 25), INK, 3)
    pieces = {"over": (18, 35), "over_too": (19, 45), "among": (32, 30), "under": (46, 50)}
    for y, x in pieces.values():
        gray[y : y + 2, x : x + 2] = INK
    grid = GridSettings()
    components = find_components(ink_mask(gray, grid.ink_block, grid.ink_offset))
    box = Box(0, 0, 120, 60)
    ids = assign_components(components, [box], CellSettings().min_component_pixels, ROW_HEIGHT)[0]
    assert all(components.labels[y, x] not in ids for y, x in pieces.values())  # specks to the cell
    cell = cut_cell(gray, components, ids, "full_name", box, ROW_HEIGHT, CellSettings())
    line = cell.lines[0]
    x0, y0 = int(components.boxes[ids, 0].min()) - 2, int(components.boxes[ids, 1].min()) - 2
    pad = CellSettings().padding

    def at(y: int, x: int) -> int:
        return int(line[y - y0 + pad, x - x0 + pad])

    assert at(*pieces["over"]) < 200 and at(*pieces["over_too"]) < 200
    assert at(*pieces["among"]) == 255 and at(*pieces["under"]) == 255
