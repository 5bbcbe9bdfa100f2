"""Handwritten text on a page-sized ink layer: per-word jitter, slant, elastic wobble, wrapping.

The layer is a float32 alpha map (0 = paper, 1 = full ink) in flat page coordinates; the
caller composites it in the writer's ink colour. Every written line reports the box of the
ink it left, which becomes the truth `text_boxes`.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from samples.fonts import load_font, x_height_ratio

# BGR ink colours of ballpoint / fountain pens, fresh and faded.
INKS = {
    "blue": (140, 45, 20),
    "blue_faded": (165, 95, 70),
    "black": (40, 35, 30),
    "violet": (125, 40, 85),
    "violet_faded": (150, 95, 120),
    # Only drawn when PageOptions.inks names them (families with varied inks).
    "blue_black": (90, 50, 35),
    "brown_faded": (95, 120, 150),
}
INK_WEIGHTS = {"blue": 45, "blue_faded": 20, "black": 20, "violet": 10, "violet_faded": 5}


@dataclass(frozen=True)
class Writer:
    """One official's hand: font, letter size, slant, ink, how steady the hand is."""

    font: Path
    x_height: float  # px height of a lowercase letter
    slant: float  # horizontal shear (positive leans right)
    ink: str
    strength: float  # peak ink opacity (faded ink < 1)
    jitter: float  # 0..1 scale of per-word baseline/size/angle variation
    pen: int = 0  # stroke width: -1 fine nib, 0 as the font draws, +1 broad pen

    @classmethod
    def random(cls, rng: random.Random, fonts: tuple[Path, ...], row_height: float) -> Writer:
        ink = rng.choices(list(INK_WEIGHTS), weights=list(INK_WEIGHTS.values()))[0]
        return cls(
            font=rng.choice(fonts),
            x_height=row_height * rng.uniform(0.13, 0.17),
            slant=rng.uniform(-0.05, 0.25),
            ink=ink,
            strength=rng.uniform(0.8, 0.97) if "faded" not in ink else rng.uniform(0.55, 0.75),
            jitter=rng.uniform(0.4, 1.0),
            pen=rng.choices((-1, 0, 1), weights=(25, 45, 30))[0],
        )


@dataclass(frozen=True)
class WordImage:
    alpha: np.ndarray  # float32 0..1
    origin: tuple[float, float]  # where the pen started (left end of the baseline) inside `alpha`
    advance: float  # px from origin to the end of the word


def _font_size(writer: Writer, scale: float) -> int:
    return max(8, round(writer.x_height * scale / x_height_ratio(writer.font)))


def word_width(writer: Writer, word: str, scale: float) -> float:
    return _text_length(writer.font, _font_size(writer, scale), word)


@lru_cache(maxsize=65536)
def _text_length(font: Path, size: int, text: str) -> float:
    return float(load_font(font, size).getlength(text))


@lru_cache(maxsize=8192)
def _upright_word(font_path: Path, size: int, word: str, pen: int = 0) -> tuple[np.ndarray, int, int, float]:
    """The word as the font draws it (alpha, baseline origin x/y, advance); cached because
    names, "Việt Nam", "Kinh" repeat on every page. Callers must not modify the array."""
    font = load_font(font_path, size)
    left, top, right, bottom = (int(round(v)) for v in font.getbbox(word, anchor="ls"))
    pad = int(size * 0.5)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    ox, oy = pad - left, pad - top  # baseline origin inside the image
    image = Image.new("L", (w, h), 0)
    ImageDraw.Draw(image).text((ox, oy), word, font=font, fill=255, anchor="ls")
    alpha: np.ndarray = np.asarray(image, dtype=np.float32) / 255.0
    if pen:  # fonts have one weight; pens do not
        kernel = np.ones((2, 2), np.uint8)
        alpha = cv2.dilate(alpha, kernel) if pen > 0 else 0.4 * alpha + 0.6 * cv2.erode(alpha, kernel)
    alpha.flags.writeable = False
    return alpha, ox, oy, float(font.getlength(word))


def render_word(word: str, writer: Writer, scale: float, rng: random.Random) -> WordImage:
    """One word with its own size, angle and a small elastic wobble (no two words alike)."""
    size = _font_size(writer, scale * (1 + rng.uniform(-0.06, 0.06) * writer.jitter))
    alpha, ox, oy, advance = _upright_word(writer.font, size, word, writer.pen)
    h, w = alpha.shape

    # Shear (slant) and rotation around the baseline origin, plus an elastic wobble (a coarse
    # random displacement field, smoothly upsampled), applied together in one remap.
    angle = math.radians(rng.uniform(-2.5, 2.5) * writer.jitter)
    shear = writer.slant + rng.uniform(-0.04, 0.04)
    c, s = math.cos(angle), math.sin(angle)
    inverse = np.linalg.inv(np.array([[c, -s], [s, c]]) @ np.array([[1.0, -shear], [0.0, 1.0]]))
    amp = max(0.6, size * 0.025) * writer.jitter
    grid = (max(2, h // 24), max(2, w // 24))
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, amp, (2, *grid)).astype(np.float32)
    dx, dy = cv2.resize(noise[0], (w, h)), cv2.resize(noise[1], (w, h))
    us = np.arange(w, dtype=np.float32)[None, :] - np.float32(ox)
    vs = np.arange(h, dtype=np.float32)[:, None] - np.float32(oy)
    map_x = np.float32(inverse[0, 0]) * us + np.float32(inverse[0, 1]) * vs + np.float32(ox) + dx
    map_y = np.float32(inverse[1, 0]) * us + np.float32(inverse[1, 1]) * vs + np.float32(oy) + dy
    alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR)
    return WordImage(alpha=alpha, origin=(float(ox), float(oy)), advance=advance)


def wrap_words(words: list[str], writer: Writer, scale: float, max_width: float, max_lines: int) -> list[str] | None:
    """Greedy wrap into at most `max_lines` lines of `max_width`; None when it does not fit."""
    space = word_width(writer, " ", scale) * 1.3
    lines: list[list[str]] = [[]]
    width = 0.0
    for word in words:
        ww = word_width(writer, word, scale)
        needed = ww if not lines[-1] else width + space + ww
        if needed <= max_width or not lines[-1]:
            lines[-1].append(word)
            width = needed
        else:
            lines.append([word])
            width = ww
    if len(lines) > max_lines or any(
        word_width(writer, " ".join(line), scale) > max_width * 1.02 for line in lines
    ):
        return None
    return [" ".join(line) for line in lines]


def paste_max(layer: np.ndarray, alpha: np.ndarray, x: int, y: int) -> tuple[int, int, int, int] | None:
    """Max-blend `alpha` into `layer` at (x, y); returns the clipped ink bbox (x0, y0, x1, y1)."""
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, layer.shape[1]), min(y + h, layer.shape[0])
    if x0 >= x1 or y0 >= y1:
        return None
    crop = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    np.maximum(layer[y0:y1, x0:x1], crop, out=layer[y0:y1, x0:x1])
    ys, xs = np.nonzero(crop > 0.25)
    if len(xs) == 0:
        return None
    return x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1


def write_cell(
    layer: np.ndarray,
    text: str,
    cell: tuple[int, int, int, int],
    writer: Writer,
    rng: random.Random,
    overflow: bool = False,
    *,
    max_lines: int = 2,
    force_lines: int | None = None,
) -> list[tuple[str, list[int]]]:
    """Write `text` into the cell (x, y, w, h): one line, or up to `max_lines` when it is long.

    Returns (line text, flat-coordinate [x, y, w, h] ink box) per written line. With `overflow`
    the hand starts a little left of the cell and writes larger, crossing the border.
    `force_lines` wraps a value of several words onto that many lines even when it would fit on
    fewer (as many hands do in tall cells); the letters shrink until the lines fit the cell.
    """
    x, y, w, h = cell
    pad_x, pad_y = max(4, w * 0.04), h * 0.08
    avail_w = w - 2 * pad_x
    words = text.split()
    if max_lines == 2 and force_lines is None:
        lines, scale = _classic_fit(words, text, writer, rng, avail_w, overflow)
    else:
        overflow = False  # the wrapped layouts keep inside the cell
        lines, scale = _fit_lines(words, writer, avail_w * 0.86, h - 2 * pad_y, max_lines, force_lines)
    band = (h - 2 * pad_y) / len(lines)
    written: list[tuple[str, list[int]]] = []
    for i, line in enumerate(lines):
        baseline = y + pad_y + band * (i + 0.5) + writer.x_height * scale * 0.5
        baseline += rng.uniform(-0.12, 0.12) * band * writer.jitter
        line_w = word_width(writer, line, scale)
        slack = max(avail_w - line_w, 0)
        pen_x = x + pad_x + (rng.uniform(0, 0.4) * slack if len(lines) == 1 else rng.uniform(0, 0.15) * slack)
        if overflow:
            pen_x = x - rng.uniform(0.02, 0.08) * w
        line_box: list[int] | None = None
        for word in line.split(" "):
            img = render_word(word, writer, scale, rng)
            drift = rng.uniform(-1.0, 1.0) * writer.x_height * 0.12 * writer.jitter
            px = round(pen_x - img.origin[0])
            py = round(baseline + drift - img.origin[1])
            bbox = paste_max(layer, img.alpha * writer.strength * rng.uniform(0.85, 1.0), px, py)
            if bbox is not None:
                line_box = list(bbox) if line_box is None else [
                    min(line_box[0], bbox[0]), min(line_box[1], bbox[1]),
                    max(line_box[2], bbox[2]), max(line_box[3], bbox[3]),
                ]
            space = word_width(writer, " ", scale) * rng.uniform(1.1, 1.7)
            pen_x += img.advance + space
        if line_box is not None:
            written.append((line, [line_box[0], line_box[1], line_box[2] - line_box[0], line_box[3] - line_box[1]]))
    return written


def _classic_fit(words: list[str], text: str, writer: Writer, rng: random.Random, avail_w: float,
                 overflow: bool) -> tuple[list[str], float]:
    """One or two lines at the largest scale that fits (the generator's original rule)."""
    # Slant, size jitter and wider spaces make written lines longer than measured: aim short.
    target_w = avail_w * (1.15 if overflow else 0.86)
    scale = rng.uniform(1.0, 1.15) if overflow else 1.0
    lines = None
    while lines is None and scale > 0.45:
        lines = wrap_words(words, writer, scale, target_w, 2)
        if lines is None:
            scale *= 0.92
    if lines is None:  # cramped cell: two balanced lines, running over the border if need be
        half = max(1, (len(words) + 1) // 2)
        lines = [" ".join(words[:half]), " ".join(words[half:])] if len(words) > 1 else [text]
    return lines, scale


# A written line needs about this many x-heights of height (ascenders, diacritics, descenders).
LINE_HEIGHT_IN_X = 2.4


def balanced_lines(words: list[str], count: int) -> list[str]:
    """`words` cut into `count` consecutive lines (fewer if there are fewer words) with the
    longest line as short as possible, in characters."""
    count = max(1, min(count, len(words)))
    best: list[str] = [" ".join(words)]
    best_len = float("inf")
    for cuts in itertools.combinations(range(1, len(words)), count - 1):
        bounds = (0, *cuts, len(words))
        lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        longest = max(len(line) for line in lines)
        if longest < best_len:
            best, best_len = lines, longest
    return best


def _fit_lines(words: list[str], writer: Writer, target_w: float, text_h: float, max_lines: int,
               force_lines: int | None) -> tuple[list[str], float]:
    """Lines (forced count, or greedy wrap into at most `max_lines`) and the largest scale at
    which every line fits `target_w` and the lines stack within `text_h`."""
    scale = 1.0
    while True:
        lines = balanced_lines(words, force_lines) if force_lines else wrap_words(
            words, writer, scale, target_w, max_lines)
        if lines is not None:
            wide = max(word_width(writer, line, scale) for line in lines)
            tall = len(lines) * writer.x_height * scale * LINE_HEIGHT_IN_X
            if wide <= target_w and tall <= text_h:
                return lines, scale
        if scale <= 0.45:  # cramped: as many balanced lines as allowed, at the smallest size
            return lines or balanced_lines(words, max_lines), scale
        scale *= 0.92


def pen_texture(layer: np.ndarray, gen: np.random.Generator, strength: float = 0.35) -> None:
    """Uneven ink flow (ballpoint skips, pooling), in place: modulates the ink opacity with
    fine random texture computed at half resolution."""
    h, w = layer.shape
    grain = cv2.GaussianBlur(gen.random((h // 2, w // 2), dtype=np.float32), (0, 0), 0.7)
    texture = cv2.resize(1 - strength * grain, (w, h))
    layer *= texture
