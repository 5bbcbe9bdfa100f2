"""Augmentations that imitate what old registry books do to handwriting: faded or uneven ink,
a line written at a slant or a small angle, thinner/thicker pens, blur and paper noise.

Pure functions on grayscale uint8 line crops (white paper, dark ink).
"""

from __future__ import annotations

import cv2
import numpy as np


def fade_ink(line: np.ndarray, strength: float) -> np.ndarray:
    """Pull ink towards the paper tone: strength 0 = unchanged, 0.7 = very faded."""
    paper = float(np.percentile(line, 90))
    values = line.astype(np.float32)
    return np.clip(paper - (paper - values) * (1.0 - strength), 0, 255).astype(np.uint8)


def uneven_ink(line: np.ndarray, rng: np.random.Generator, depth: float) -> np.ndarray:
    """Ink that fades along the line (a drying pen): a smooth left-right gain on the ink."""
    width = line.shape[1]
    knots = rng.uniform(1.0 - depth, 1.0, size=4)
    gain = np.interp(np.arange(width), np.linspace(0, width - 1, 4), knots).astype(np.float32)
    paper = float(np.percentile(line, 90))
    values = line.astype(np.float32)
    return np.clip(paper - (paper - values) * gain[None, :], 0, 255).astype(np.uint8)


def skew(line: np.ndarray, angle_deg: float, shear: float) -> np.ndarray:
    """Rotate by a small angle and shear (slant), on a canvas grown to keep every stroke."""
    h, w = line.shape
    grow_y = int(abs(np.tan(np.radians(angle_deg))) * w / 2) + 2
    grow_x = int(abs(shear) * h) + 2
    canvas = cv2.copyMakeBorder(line, grow_y, grow_y, grow_x, grow_x, cv2.BORDER_CONSTANT, value=255)
    ch, cw = canvas.shape
    rotation = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle_deg, 1.0)
    shear_matrix = np.array([[1, shear, -shear * ch / 2], [0, 1, 0]], dtype=np.float64)
    matrix = np.vstack([rotation, [0, 0, 1]]) @ np.vstack([shear_matrix, [0, 0, 1]])
    warped = cv2.warpAffine(canvas, matrix[:2], (cw, ch), flags=cv2.INTER_LINEAR, borderValue=255)
    return _trim_white(warped)


def stroke_width(line: np.ndarray, thicker: bool) -> np.ndarray:
    kernel = np.ones((2, 2), np.uint8)
    return cv2.erode(line, kernel) if thicker else cv2.dilate(line, kernel)  # ink is dark


def blur_and_noise(line: np.ndarray, rng: np.random.Generator, sigma: float, noise: float) -> np.ndarray:
    values: np.ndarray = line.astype(np.float32)
    if sigma > 0.05:
        values = cv2.GaussianBlur(values, (0, 0), sigma)
    if noise > 0:
        values = values + rng.normal(0, noise, values.shape)
    return np.clip(values, 0, 255).astype(np.uint8)


def _trim_white(line: np.ndarray, margin: int = 3) -> np.ndarray:
    ink = np.argwhere(line < 200)
    if ink.size == 0:
        return line
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
    y0, x0 = max(0, y0 - margin), max(0, x0 - margin)
    return line[y0 : y1 + margin + 1, x0 : x1 + margin + 1]


def augment_line(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random, realistic degradation of a line (each effect applied with some probability)."""
    out = line
    if rng.random() < 0.6:
        out = skew(out, float(rng.uniform(-3.0, 3.0)), float(rng.uniform(-0.2, 0.2)))
    if rng.random() < 0.3:
        out = stroke_width(out, thicker=bool(rng.random() < 0.5))
    if rng.random() < 0.5:
        out = fade_ink(out, float(rng.uniform(0.3, 0.7)))
    elif rng.random() < 0.4:
        out = uneven_ink(out, rng, float(rng.uniform(0.3, 0.7)))
    if rng.random() < 0.5:
        out = blur_and_noise(out, rng, float(rng.uniform(0.0, 0.9)), float(rng.uniform(0.0, 8.0)))
    return out
