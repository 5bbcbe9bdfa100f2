"""Printed ledger page: geometry of title, header row, columns and rows, and its printed ink."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ocr.types import ColumnSpec
from samples.fonts import load_font, printed_font_path
from samples.variation import MIN_COLUMN_SHARE, NARROW_FACTOR, LayoutOptions, RulingStyle

RULING_MODES = ("normal", "faint", "none")


@dataclass(frozen=True)
class PageGeometry:
    """Flat-page coordinates (px) of the printed table."""

    width: int
    height: int
    title_y: int  # baseline of the printed title
    col_edges: tuple[int, ...]  # x of every vertical ruling, left to right (len = columns + 1)
    header_top: int
    header_bottom: int
    row_edges: tuple[int, ...]  # y of every horizontal ruling below the header (len = rows + 1)
    label_bottom: int | None = None  # ruling between the labels and a column-number row; None: one header row

    @property
    def table_left(self) -> int:
        return self.col_edges[0]

    @property
    def table_width(self) -> int:
        return self.col_edges[-1] - self.col_edges[0]

    def header_box(self) -> list[int]:
        return [self.table_left, self.header_top, self.table_width, self.header_bottom - self.header_top]

    def column_boxes(self) -> list[list[int]]:
        """Data area of each column (below the header row)."""
        top, bottom = self.row_edges[0], self.row_edges[-1]
        return [[a, top, b - a, bottom - top] for a, b in zip(self.col_edges, self.col_edges[1:], strict=False)]

    def row_box(self, i: int) -> list[int]:
        return [self.table_left, self.row_edges[i], self.table_width, self.row_edges[i + 1] - self.row_edges[i]]

    def cell(self, row: int, col: int) -> tuple[int, int, int, int]:
        x0, x1 = self.col_edges[col], self.col_edges[col + 1]
        y0, y1 = self.row_edges[row], self.row_edges[row + 1]
        return x0, y0, x1 - x0, y1 - y0


def page_geometry(columns: tuple[ColumnSpec, ...], rows: int, width: int, height: int,
                  rng: random.Random, layout: LayoutOptions | None = None) -> PageGeometry:
    """Column widths proportional to the template hints; rows share the remaining height.

    With `layout`, the header band, column widths and a column-number row vary as it says.
    """
    if layout is not None:
        return _varied_geometry(columns, rows, width, height, rng, layout)
    left = round(width * rng.uniform(0.04, 0.05))
    right = width - round(width * rng.uniform(0.025, 0.035))
    total = sum(c.width for c in columns)
    edges = [float(left)]
    for c in columns:
        edges.append(edges[-1] + (right - left) * c.width / total)
    col_edges = tuple(round(e) for e in edges)
    title_y = round(height * 0.065)
    header_top = round(height * 0.10)
    header_bottom = header_top + round(height * 0.095)
    bottom = height - round(height * rng.uniform(0.035, 0.045))
    step = (bottom - header_bottom) / rows
    row_edges = tuple(round(header_bottom + i * step) for i in range(rows + 1))
    return PageGeometry(width, height, title_y, col_edges, header_top, header_bottom, row_edges)


def _varied_geometry(columns: tuple[ColumnSpec, ...], rows: int, width: int, height: int,
                     rng: random.Random, layout: LayoutOptions) -> PageGeometry:
    left = round(width * rng.uniform(0.04, 0.05))
    right = width - round(width * rng.uniform(0.025, 0.035))
    title_y = round(height * 0.065)
    header_top = round(height * 0.10)
    bottom = height - round(height * rng.uniform(0.035, 0.045))
    edges = [float(left)]
    for share in column_shares(columns, layout, rng):
        edges.append(edges[-1] + (right - left) * share)
    if layout.header_ratio is None:
        header_bottom = header_top + round(height * 0.095)
        step = (bottom - header_bottom) / rows
    else:  # the header is a multiple of the row pitch: the row height fixes both
        step = (bottom - header_top) / (rows + layout.header_ratio)
        header_bottom = header_top + round(step * layout.header_ratio)
    label_bottom = None
    if layout.column_numbers:
        label_bottom = header_bottom - min(round((header_bottom - header_top) * 0.3), round(height * 0.03))
    row_edges = tuple(round(header_bottom + i * step) for i in range(rows + 1))
    return PageGeometry(width, height, title_y, tuple(round(e) for e in edges), header_top, header_bottom,
                        row_edges, label_bottom)


def column_shares(columns: tuple[ColumnSpec, ...], layout: LayoutOptions, rng: random.Random) -> list[float]:
    """Each column's share of the table width: hint x narrow factor x jitter, renormalised, and
    never below MIN_COLUMN_SHARE (columns raised to it take their width from the others)."""
    j = layout.column_jitter
    raw = [c.width * (NARROW_FACTOR if c.field_type in layout.narrow_types else 1.0) * rng.uniform(1 - j, 1 + j)
           for c in columns]
    shares = [r / sum(raw) for r in raw]
    low = [s < MIN_COLUMN_SHARE for s in shares]
    rest = sum(s for s, is_low in zip(shares, low, strict=True) if not is_low)
    free = 1.0 - MIN_COLUMN_SHARE * sum(low)
    return [MIN_COLUMN_SHARE if is_low else s * free / rest for s, is_low in zip(shares, low, strict=True)]


def _wrap_label(label: str, font, max_width: float) -> list[str]:
    lines: list[str] = []
    for word in label.split():
        if lines and font.getlength(lines[-1] + " " + word) <= max_width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def draw_printed_text(geom: PageGeometry, columns: tuple[ColumnSpec, ...], title: str,
                      unit: str, year: int, volume: int) -> np.ndarray:
    """Alpha layer of the printed title and column labels (labels wrapped to 2-3 lines)."""
    image = Image.new("L", (geom.width, geom.height), 0)
    draw = ImageDraw.Draw(image)
    unit_px = geom.height * 0.023
    bold = load_font(printed_font_path(bold=True), round(geom.height * 0.033))
    regular = load_font(printed_font_path(), round(unit_px))
    draw.text((geom.width / 2, geom.title_y), title.upper(), font=bold, fill=255, anchor="ms")
    draw.text((geom.table_left, geom.title_y), f"UBND {unit[0].lower() + unit[1:]}", font=regular,
              fill=255, anchor="ls")
    draw.text((geom.col_edges[-1], geom.title_y), f"Năm {year}   Quyển số: {volume:02d}", font=regular,
              fill=255, anchor="rs")
    labels_bottom = geom.header_bottom if geom.label_bottom is None else geom.label_bottom
    header_h = labels_bottom - geom.header_top
    for i, col in enumerate(columns):
        x0, x1 = geom.col_edges[i], geom.col_edges[i + 1]
        size = round(geom.height * 0.0155)
        while True:
            font = load_font(printed_font_path(bold=True), size)
            lines = _wrap_label(col.label, font, (x1 - x0) * 0.88)
            fits = all(font.getlength(line) <= (x1 - x0) * 0.92 for line in lines)
            fits = fits and size * 1.3 * len(lines) <= header_h * 0.92  # a short band: smaller print
            if (len(lines) <= 3 and fits) or size <= 10:
                break
            size -= 1
        line_h = size * 1.3
        y = geom.header_top + (header_h - line_h * len(lines)) / 2 + line_h * 0.78
        for line in lines:
            draw.text(((x0 + x1) / 2, y), line, font=font, fill=255, anchor="ms")
            y += line_h
    if geom.label_bottom is not None:
        _draw_column_numbers(draw, geom, len(columns))
    return np.asarray(image, dtype=np.float32) / 255.0


def _draw_column_numbers(draw: ImageDraw.ImageDraw, geom: PageGeometry, count: int) -> None:
    """The printed "(1) (2) (3) ..." row under the labels."""
    assert geom.label_bottom is not None
    band = geom.header_bottom - geom.label_bottom
    font = load_font(printed_font_path(), max(8, min(round(geom.height * 0.0135), round(band * 0.6))))
    for i in range(count):
        x = (geom.col_edges[i] + geom.col_edges[i + 1]) / 2
        draw.text((x, (geom.label_bottom + geom.header_bottom) / 2), f"({i + 1})", font=font, fill=255, anchor="mm")


def draw_rulings(geom: PageGeometry, mode: str, rng: random.Random, style: RulingStyle | None = None) -> np.ndarray:
    """Alpha layer of the printed grid: solid, faint/broken/partly missing, or none.

    A `style` (unless mode is "none") replaces the normal/faint look: its thickness, strength,
    share of worn and of missing rulings.
    """
    if mode not in RULING_MODES:
        raise ValueError(f"ruling must be one of {RULING_MODES}, not {mode!r}")
    layer = np.zeros((geom.height, geom.width), dtype=np.float32)
    if mode == "none":
        return layer
    faint = mode == "faint"
    top, bottom = geom.header_top, geom.row_edges[-1]
    left, right = geom.col_edges[0], geom.col_edges[-1]
    segments: list[tuple[int, int, int, int, bool]] = []  # x0, y0, x1, y1, outer
    for i, x in enumerate(geom.col_edges):
        segments.append((x, top, x, bottom, i in (0, len(geom.col_edges) - 1)))
    header_rulings = (top,) if geom.label_bottom is None else (top, geom.label_bottom)
    for y in (*header_rulings, geom.header_bottom, *geom.row_edges[1:]):
        segments.append((left, y, right, y, y in (top, bottom)))
    if style is not None:
        _draw_styled(layer, segments, style, rng)
        return layer
    for x0, y0, x1, y1, outer in segments:
        if faint and not outer and rng.random() < 0.25:
            continue  # partly missing lines
        strength = rng.uniform(0.3, 0.55) if faint else rng.uniform(0.8, 0.95)
        thickness = 3 if outer else 2
        if faint:
            _draw_broken(layer, (x0, y0, x1, y1), thickness, strength, rng)
        else:
            _line(layer, (x0, y0, x1, y1), thickness, strength)
    return layer


def _draw_styled(layer: np.ndarray, segments: list[tuple[int, int, int, int, bool]], style: RulingStyle,
                 rng: random.Random) -> None:
    for x0, y0, x1, y1, outer in segments:
        if not outer and rng.random() < style.missing:
            continue
        strength = rng.uniform(*style.strength)
        thickness = style.thickness + int(outer)
        if rng.random() < style.broken:
            _draw_broken(layer, (x0, y0, x1, y1), thickness, strength, rng)
        else:
            _line(layer, (x0, y0, x1, y1), thickness, strength)


def _line(layer: np.ndarray, seg: tuple[int, int, int, int], thickness: int, strength: float) -> None:
    x0, y0, x1, y1 = seg
    half = thickness // 2
    if x0 == x1:
        region = layer[y0:y1 + 1, max(x0 - half, 0):x0 - half + thickness]
    else:
        region = layer[max(y0 - half, 0):y0 - half + thickness, x0:x1 + 1]
    np.maximum(region, strength, out=region)


def _draw_broken(layer: np.ndarray, seg: tuple[int, int, int, int], thickness: int, strength: float,
                 rng: random.Random) -> None:
    """A worn line: dashes of random length with gaps, varying strength."""
    x0, y0, x1, y1 = seg
    length = max(x1 - x0, y1 - y0)
    pos = 0
    while pos < length:
        run = rng.randint(20, 180)
        if rng.random() < 0.75:
            a, b = pos, min(pos + run, length)
            part = (x0 + a, y0, x0 + b, y0) if y0 == y1 else (x0, y0 + a, x0, y0 + b)
            _line(layer, part, thickness, strength * rng.uniform(0.6, 1.0))
        pos += run
