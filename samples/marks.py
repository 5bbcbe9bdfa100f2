"""Marks that are not registrations: red round stamps over the table, notes in the margins.

Neither changes a field's truth: a stamp lies over cells whose text is still what was written,
and a margin note lies outside the table (the pipeline must not take it for a record).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from samples.fonts import load_font, printed_font_path
from samples.layout import PageGeometry

STAMP_RED = (50, 45, 185)  # BGR of stamp-pad ink
STAMP_TEXT = "ỦY BAN NHÂN DÂN ★ {unit} ★"
NOTE_TEXTS = (
    "Đã cấp bản sao", "Xem trang sau", "Đã cải chính", "Sao y bản chính", "Bổ sung hộ tịch",
    "Đã ghi chú ly hôn", "Cấp lại bản chính",
)


@dataclass(frozen=True)
class Stamp:
    centre: tuple[int, int]  # flat page px
    radius: int

    def box(self) -> list[int]:
        x, y = self.centre
        return [x - self.radius, y - self.radius, 2 * self.radius, 2 * self.radius]


def place_stamps(geom: PageGeometry, count: int, rng: random.Random) -> list[Stamp]:
    """Stamps over the data rows, mostly in the right half of the table (where officials sign)."""
    top, bottom = geom.row_edges[0], geom.row_edges[-1]
    left, right = geom.table_left, geom.col_edges[-1]
    stamps = []
    for _ in range(count):
        radius = round(geom.width * rng.uniform(0.03, 0.042))
        x = round(rng.uniform(left + 0.4 * (right - left), right - radius))
        y = round(rng.uniform(top + radius * 0.5, bottom - radius * 0.5))
        stamps.append(Stamp((x, y), radius))
    return stamps


def draw_stamp(layer: np.ndarray, stamp: Stamp, unit: str, rng: random.Random) -> None:
    """A round stamp (two rings, the unit's name around, a star in the middle), unevenly inked,
    max-blended into the alpha `layer` in place."""
    r = stamp.radius
    size = 2 * r + 8
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    c = size / 2
    outer_w = max(2, round(r * 0.06))
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=outer_w)
    inner = r * 0.66
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=255, width=max(1, outer_w // 2))
    star = load_font(printed_font_path(bold=True), round(r * 0.5))
    draw.text((c, c), "★", font=star, fill=255, anchor="mm")
    _text_on_circle(image, STAMP_TEXT.format(unit=unit.upper()), (c, c), r * 0.83, round(r * 0.2))
    alpha: np.ndarray = np.asarray(image, np.float32) / 255.0
    alpha = cv2.rotate(alpha, cv2.ROTATE_180) if rng.random() < 0.3 else alpha
    # Uneven pressure: a smooth random field fades parts of the imprint.
    coarse = np.asarray([[rng.uniform(0.35, 1.0) for _ in range(4)] for _ in range(4)], np.float32)
    alpha *= cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC).clip(0.2, 1.0) * rng.uniform(0.6, 0.85)
    x0, y0 = stamp.centre[0] - size // 2, stamp.centre[1] - size // 2
    h, w = layer.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
    if xa < xb and ya < yb:
        region = layer[ya:yb, xa:xb]
        np.maximum(region, alpha[ya - y0:yb - y0, xa - x0:xb - x0], out=region)


def _text_on_circle(image: Image.Image, text: str, centre: tuple[float, float], radius: float, size: int) -> None:
    """Letters upright to the circle, clockwise from the top left."""
    font = load_font(printed_font_path(bold=True), max(8, size))
    step = 2 * math.pi / max(len(text), 1)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 + (i + 0.5) * step
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BILINEAR)
        x = centre[0] + radius * math.cos(angle) - size
        y = centre[1] + radius * math.sin(angle) - size
        image.paste(glyph, (round(x), round(y)), glyph)


def note_boxes(geom: PageGeometry, count: int, rng: random.Random) -> list[tuple[int, int, int, int]]:
    """Cells (x, y, w, h) for margin notes: below the table, or between the title and the table."""
    boxes = []
    below = (geom.row_edges[-1] + 4, geom.height - geom.row_edges[-1] - 8)
    above = (geom.title_y + round(geom.height * 0.008), geom.header_top - geom.title_y - round(geom.height * 0.012))
    for i in range(count):
        y, h = below if i % 2 == 0 else above
        w = round(geom.table_width * rng.uniform(0.16, 0.24))
        x = round(rng.uniform(geom.table_left, geom.col_edges[-1] - w))
        boxes.append((x, y, w, max(h, 12)))
    return boxes
