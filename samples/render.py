"""Render one synthetic scanned ledger page of a book type, with its ground truth."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from samples import scan
from samples.fonts import handwriting_fonts
from samples.handwriting import INKS, Writer, pen_texture, write_cell
from samples.layout import PageGeometry, draw_printed_text, draw_rulings, page_geometry
from samples.marks import NOTE_TEXTS, STAMP_RED, draw_stamp, note_boxes, place_stamps
from samples.people import DATE_FORMATS, PersonFactory, home_area, make_record, pick, registration_dates
from samples.real_hands import RealLineBank, paste_real_line
from samples.variation import LayoutOptions, RulingStyle
from workbench.book_types import get_book_type

PRINT_INK = (38, 36, 40)
FAINT_RULING_COLOURS = ((150, 120, 90), (120, 150, 120), (110, 120, 170), (130, 130, 130))


@dataclass
class PageOptions:
    """Every scan defect can be set; None means "draw a realistic random value"."""

    skew_deg: float | None = None  # degrees, counter-clockwise as seen; None = random in ±skew_max_deg
    skew_max_deg: float = 5.0
    ruling: str = "normal"  # normal | faint | none
    rotate: int = 0  # 0 | 90 (clockwise) | 180 | 270: the page was scanned turned
    blank: bool = False  # an empty page with only paper texture
    border: bool = True  # dark scanner bed around the paper (False = white lid)
    noise: float | None = None  # sensor noise std in grey levels; None = random 2..5
    blur: float | None = None  # Gaussian sigma px; None = random 0.3..0.9; 0 = sharp
    light: float | None = None  # uneven light strength 0..0.4; None = random
    stains: int | None = None  # number of stains; None = random 0..6
    jpeg_quality: int = 85  # 100 = no JPEG round trip in render_page
    rows: int = 10  # printed data rows
    filled_rows: int | None = None  # rows with entries (top ones); None = all
    width: int = 2400
    height: int = 1650
    # Axes of samples/variation.py and samples/families.py; off by default (the classic page).
    layout: LayoutOptions | None = None  # header band, column widths, column numbers, wrapping
    ruling_style: RulingStyle | None = None  # grid thickness, colour, fading, wear (replaces `ruling`'s look)
    inks: tuple[str, ...] | None = None  # writers' inks drawn from these INKS keys; None: the usual mix
    stamps: int = 0  # red round stamps over the data rows
    margin_notes: int = 0  # short handwritten notes outside the table
    real_lines: RealLineBank | None = None  # real handwritten lines pasted into the place cells
    fonts: tuple[Path, ...] | None = None  # writers' hands drawn from these fonts; None: handwriting_fonts()

    @property
    def varied(self) -> bool:
        """True when any axis beyond the classic page is set (truth then gains "variation")."""
        return bool(self.layout or self.ruling_style or self.inks or self.stamps or self.margin_notes
                    or self.real_lines or self.fonts)


def _rng(rng_or_seed: random.Random | int) -> random.Random:
    return rng_or_seed if isinstance(rng_or_seed, random.Random) else random.Random(rng_or_seed)


def render_page(
    book_type: str,
    rng_or_seed: random.Random | int,
    options: PageOptions,
    first_registration_no: int = 1,
    year: int = 2003,
    *,
    unit: str = "Xã Đại Lãnh",
    volume: int = 1,
    date_range: tuple[date, date] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """A BGR page image and its truth (see samples/README.md for the truth shape).

    `date_range` bounds the registration dates on this page (default: the whole year),
    so a book's pages can run forward in time.
    """
    image, truth, _ = render_page_encoded(
        book_type, rng_or_seed, options, first_registration_no, year,
        unit=unit, volume=volume, date_range=date_range,
    )
    return image, truth


def render_page_encoded(
    book_type: str,
    rng_or_seed: random.Random | int,
    options: PageOptions,
    first_registration_no: int = 1,
    year: int = 2003,
    *,
    unit: str = "Xã Đại Lãnh",
    volume: int = 1,
    date_range: tuple[date, date] | None = None,
) -> tuple[np.ndarray, dict[str, Any], bytes | None]:
    """As render_page, plus the JPEG bytes (None when jpeg_quality >= 100)."""
    rng = _rng(rng_or_seed)
    gen = np.random.default_rng(rng.getrandbits(64))
    bt = get_book_type(book_type)
    columns = bt.columns
    w, h = options.width, options.height
    geom = page_geometry(columns, options.rows, w, h, rng, options.layout)

    flat = scan.paper(gen, rng, h, w)
    stains = rng.randint(0, 6) if options.stains is None else options.stains
    scan.add_stains(flat, gen, rng, stains)
    records: list[dict[str, Any]] = []
    variation: dict[str, Any] = {}
    if not options.blank:
        rulings = draw_rulings(geom, options.ruling, rng, options.ruling_style)
        if options.ruling_style is not None:
            ruling_ink = options.ruling_style.colour
        else:
            ruling_ink = rng.choice(FAINT_RULING_COLOURS) if options.ruling == "faint" else PRINT_INK
        scan.composite(flat, rulings, ruling_ink)
        printed = draw_printed_text(geom, columns, bt.label, unit, year, volume)
        scan.composite(flat, printed * rng.uniform(0.8, 0.95), PRINT_INK)
        records = _write_records(flat, geom, bt.key, columns, options, rng, first_registration_no,
                                 year, unit, date_range, variation)
        if options.stamps:
            variation["stamps"] = _stamp(flat, geom, options.stamps, unit, rng)

    skew = rng.uniform(-options.skew_max_deg, options.skew_max_deg) if options.skew_deg is None \
        else float(options.skew_deg)
    place = scan.scan_transform(w, h, w, h, skew, options.border, rng)
    light = rng.uniform(0.05, 0.3) if options.light is None else options.light
    blur = rng.uniform(0.3, 0.9) if options.blur is None else options.blur
    noise = rng.uniform(2, 5) if options.noise is None else options.noise
    image = scan.scan_page(scan.to_uint8(flat), place, w, h, options.border, light, blur, noise, gen, rng)
    image = scan.rotate_image(image, options.rotate)
    flat_to_scan = scan.compose_affine(scan.rotation_matrix(options.rotate, w, h), place)
    data = None
    if options.jpeg_quality < 100:
        image, data = scan.jpeg_roundtrip(image, options.jpeg_quality)

    truth: dict[str, Any] = {
        "file": None,
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "flat_width": w,
        "flat_height": h,
        "skew_deg": round(skew, 3),
        "rotate": options.rotate,
        "ruling": options.ruling,
        "blank": options.blank,
        "flat_to_scan": [[round(float(v), 6) for v in row] for row in flat_to_scan],
        "header_box": None if options.blank else geom.header_box(),
        "column_boxes": [] if options.blank else geom.column_boxes(),
        "records": records,
    }
    if options.varied:
        truth["variation"] = _describe(options, geom, variation)
    return image, truth, data


def _describe(options: PageOptions, geom: PageGeometry, drawn: dict[str, Any]) -> dict[str, Any]:
    """What the optional axes drew on this page (for per-axis reports and tests)."""
    row_h = (geom.row_edges[-1] - geom.row_edges[0]) / max(1, len(geom.row_edges) - 1)
    return {
        "header_rows": 1 if geom.label_bottom is None else 2,
        "label_bottom": geom.label_bottom,  # y of the ruling under the labels (two header rows)
        "header_to_row": round((geom.header_bottom - geom.header_top) / row_h, 3),
        "ruling_thickness": options.ruling_style.thickness if options.ruling_style else None,
        "stamps": drawn.get("stamps", []),  # [x, y, w, h] of each stamp's square
        "margin_notes": drawn.get("margin_notes", []),  # {"value", "lines", "text_boxes"} outside the table
        "real_cells": drawn.get("real_cells", []),  # [row_index, key] of cells holding a real handwritten line
        "hands": sorted(drawn.get("hands", [])),  # file names of the fonts that wrote on the page
    }


def _stamp(flat: list[np.ndarray], geom: PageGeometry, count: int, unit: str, rng: random.Random) -> list[list[int]]:
    layer = np.zeros(flat[0].shape, np.float32)
    stamps = place_stamps(geom, count, rng)
    for stamp in stamps:
        draw_stamp(layer, stamp, unit, rng)
    scan.composite(flat, layer, STAMP_RED)
    return [s.box() for s in stamps]


def _writer(rng: random.Random, fonts: tuple[Path, ...], row_h: float, options: PageOptions) -> Writer:
    """A random official's hand; with `options.inks`, in one of those inks."""
    writer = Writer.random(rng, fonts, row_h)
    if options.inks:
        ink = rng.choice(options.inks)
        strength = rng.uniform(0.55, 0.75) if "faded" in ink else rng.uniform(0.8, 0.97)
        writer = replace(writer, ink=ink, strength=strength)
    return writer


def _wrap(layout: LayoutOptions | None, text: str, rng: random.Random) -> dict[str, Any]:
    """write_cell's wrapping arguments for this value (none, and no random draw, without layout)."""
    if layout is None:
        return {}
    force = None
    if layout.max_lines >= 2 and len(text.split()) > 1 and rng.random() < layout.wrap_share:
        force = rng.randint(2, layout.max_lines)
    return {"max_lines": layout.max_lines, "force_lines": force}


def _write_records(flat: list[np.ndarray], geom, book_type: str, columns, options: PageOptions,
                   rng: random.Random, first_no: int, year: int, unit: str,
                   date_range: tuple[date, date] | None, variation: dict[str, Any]) -> list[dict[str, Any]]:
    """Generate the entries, write them by hand into the rows, return their truth.

    `variation` receives what the optional axes drew (real-hand cells, margin notes).
    """
    filled = options.rows if options.filled_rows is None else max(0, min(options.filled_rows, options.rows))
    start, end = date_range or (date(year, 1, 1), date(year, 12, 31))
    dates = registration_dates(rng, filled, start, end)
    factory = PersonFactory(rng, home_area(unit, rng))
    row_h = geom.row_edges[1] - geom.row_edges[0]
    if options.layout is not None:  # tall rows hold ordinary-sized writing, not giant letters
        row_h = min(row_h, round(geom.height * 0.08))
    fonts = options.fonts or handwriting_fonts()
    hands = variation.setdefault("hands", set())  # fonts that wrote something (no random draw)
    writer = _writer(rng, fonts, row_h, options)
    date_style = pick(rng, DATE_FORMATS)
    layers: dict[str, np.ndarray] = {}
    records = []
    for i in range(filled):
        if rng.random() < 0.12:  # another official took over the book
            writer = _writer(rng, fonts, row_h, options)
        hands.add(writer.font.name)
        values = make_record(columns, book_type, factory, first_no + i, dates[i], date_style)
        layer = layers.setdefault(writer.ink, np.zeros(flat[0].shape, np.float32))
        fields = {}
        for c, col in enumerate(columns):
            text = values[col.key]
            written: list[tuple[str, list[int]]] = []
            real = None
            if text and options.real_lines and col.field_type in options.real_lines.field_types:
                real = paste_real_line(layer, options.real_lines, geom.cell(i, c), writer.x_height * 2.4,
                                       writer.strength, rng)
            if real is not None:
                text, written = real
                variation.setdefault("real_cells", []).append([i + 1, col.key])
            elif text:
                written = write_cell(layer, text, geom.cell(i, c), writer, rng, overflow=rng.random() < 0.03,
                                     **_wrap(options.layout, text, rng))
            fields[col.key] = {"value": text, "text_boxes": [box for _, box in written],
                               "lines": [line for line, _ in written]}
        records.append({"row_index": i + 1, "box": geom.row_box(i), "fields": fields})
    if options.margin_notes:
        layer = layers.setdefault(writer.ink, np.zeros(flat[0].shape, np.float32))
        hands.add(writer.font.name)
        variation["margin_notes"] = _margin_notes(layer, geom, options.margin_notes, writer, rng)
    for ink, layer in layers.items():
        pen_texture(layer, np.random.default_rng(rng.getrandbits(64)))
        scan.composite(flat, layer, INKS[ink])
    return records


def _margin_notes(layer: np.ndarray, geom: PageGeometry, count: int, writer: Writer,
                  rng: random.Random) -> list[dict[str, Any]]:
    notes = []
    for box in note_boxes(geom, count, rng):
        text = rng.choice(NOTE_TEXTS)
        written = write_cell(layer, text, box, writer, rng, max_lines=1)
        notes.append({"value": text, "lines": [line for line, _ in written],
                      "text_boxes": [b for _, b in written]})
    return notes
