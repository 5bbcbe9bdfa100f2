"""Paper and scanner effects: texture, stains, skew on the scanner bed, light, blur, noise, JPEG."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

RNG = np.random.Generator


def _smooth_noise(gen: RNG, shape: tuple[int, int], cells: int, amplitude: float) -> np.ndarray:
    """Low-frequency noise: random values on a coarse grid, bicubically upsampled."""
    h, w = shape
    coarse = gen.normal(0, amplitude, (max(2, cells * h // max(h, w)), cells)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def paper(gen: RNG, rng: random.Random, height: int, width: int) -> np.ndarray:
    """Aged paper, float32 BGR 0..255: cream base, blotchy tone, fine grain."""
    base = np.array([rng.uniform(200, 225), rng.uniform(222, 238), rng.uniform(232, 245)], np.float32)
    tone = _smooth_noise(gen, (height, width), 12, 4.0) + _smooth_noise(gen, (height, width), 60, 1.5)
    grain = cv2.resize(gen.normal(0, 3.0, (height // 2, width // 2)).astype(np.float32), (width, height))
    shade = tone + grain
    return base[None, None, :] + shade[:, :, None]


def add_stains(img: np.ndarray, gen: RNG, rng: random.Random, count: int) -> None:
    """Brownish water/tea stains and foxing spots, in place."""
    h, w = img.shape[:2]
    small = np.zeros((h // 8, w // 8), np.float32)
    for _ in range(count):
        cx, cy = rng.uniform(0, w // 8), rng.uniform(0, h // 8)
        axes = (rng.uniform(3, 25), rng.uniform(3, 20))
        cv2.ellipse(small, (int(cx), int(cy)), (int(axes[0]), int(axes[1])), rng.uniform(0, 180), 0, 360,
                    rng.uniform(0.06, 0.25), -1)
    small = cv2.GaussianBlur(small, (0, 0), 2.5)
    small *= 1 + _smooth_noise(gen, small.shape, 20, 0.4)
    mask = cv2.resize(small, (w, h))[:, :, None]
    stain = np.array([60, 110, 140], np.float32)  # BGR of a brown stain
    img *= 1 - mask * (1 - stain / 255.0)


def composite(img: np.ndarray, alpha: np.ndarray, color: tuple[int, int, int]) -> None:
    """Lay ink of `color` with opacity `alpha` over the page, in place.

    Works on the rows/columns the ink touches only, one contiguous plane at a time
    (interleaved float maths on a 2400x1650 page costs ~90 ms per layer).
    """
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if len(rows) == 0:
        return
    ys, xs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    a = alpha[ys, xs]
    for c in range(3):
        plane = np.ascontiguousarray(img[ys, xs, c])
        plane -= a * (plane - np.float32(color[c]))
        img[ys, xs, c] = plane


def scan_transform(width: int, height: int, out_w: int, out_h: int, skew_deg: float, border: bool,
                   rng: random.Random) -> np.ndarray:
    """2x3 affine placing the flat page (rotated by skew_deg, scaled to fit) on the scanner bed."""
    t = math.radians(abs(skew_deg))
    rot_w = width * math.cos(t) + height * math.sin(t)
    rot_h = width * math.sin(t) + height * math.cos(t)
    margin = rng.uniform(0.015, 0.04) if border else 0.004
    scale = min(out_w * (1 - 2 * margin) / rot_w, out_h * (1 - 2 * margin) / rot_h)
    slack_x, slack_y = (out_w - rot_w * scale) / 2, (out_h - rot_h * scale) / 2
    cx = out_w / 2 + rng.uniform(-0.5, 0.5) * slack_x * 0.6
    cy = out_h / 2 + rng.uniform(-0.5, 0.5) * slack_y * 0.6
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), skew_deg, scale)
    matrix[0, 2] += cx - width / 2
    matrix[1, 2] += cy - height / 2
    return matrix


def place_on_bed(flat: np.ndarray, matrix: np.ndarray, out_w: int, out_h: int, border: bool,
                 gen: RNG, rng: random.Random) -> np.ndarray:
    """Warp the page onto a dark scanner bed (or a white lid when border=False)."""
    warped = cv2.warpAffine(flat, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    mask = cv2.warpAffine(np.ones(flat.shape[:2], np.float32), matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
    # Shadow along the paper edge: the page curls away from the glass there.
    edge = cv2.GaussianBlur(mask, (0, 0), 6)
    warped *= (0.75 + 0.25 * edge)[:, :, None]
    if border:
        bed_level = rng.uniform(15, 45)
        bed = bed_level + _smooth_noise(gen, (out_h, out_w), 8, 4.0)
    else:
        bed = rng.uniform(230, 245) + _smooth_noise(gen, (out_h, out_w), 8, 2.0)
    m = mask[:, :, None]
    return warped * m + bed[:, :, None] * (1 - m)


def uneven_light(img: np.ndarray, gen: RNG, rng: random.Random, strength: float) -> None:
    """Darker toward one side (book spine, lamp falloff) plus a soft blotch, in place."""
    if strength <= 0:
        return
    h, w = img.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * math.cos(angle)
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * math.sin(angle)
    ramp = (xs + ys) * 0.5 + 0.5  # 0..1 across the page
    light = 1 - strength * ramp**2 + _smooth_noise(gen, (h, w), 4, strength * 0.2)
    img *= light[:, :, None]


def finish(img: np.ndarray, gen: RNG, blur: float, noise: float) -> np.ndarray:
    """Optics blur and sensor noise; returns uint8 BGR."""
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if noise > 0:
        h, w = img.shape[:2]
        img += gen.normal(0, noise, (h, w)).astype(np.float32)[:, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def rotation_matrix(rotate: int, width: int, height: int) -> np.ndarray:
    """2x3 affine of cv2.rotate for a `width` x `height` image (90 = clockwise)."""
    if rotate == 0:
        return np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    if rotate == 90:  # (x, y) -> (h - 1 - y, x)
        return np.array([[0, -1, height - 1], [1, 0, 0]], np.float64)
    if rotate == 180:
        return np.array([[-1, 0, width - 1], [0, -1, height - 1]], np.float64)
    if rotate == 270:  # (x, y) -> (y, w - 1 - x)
        return np.array([[0, 1, 0], [-1, 0, width - 1]], np.float64)
    raise ValueError(f"rotate must be 0, 90, 180 or 270, not {rotate}")


def rotate_image(img: np.ndarray, rotate: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return img if rotate == 0 else cv2.rotate(img, codes[rotate])


def compose_affine(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """2x3 affine applying `first` then `second`."""
    a = np.vstack([first, [0, 0, 1]])
    b = np.vstack([second, [0, 0, 1]])
    return (b @ a)[:2]


def jpeg_roundtrip(img: np.ndarray, quality: int) -> tuple[np.ndarray, bytes]:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    data = buf.tobytes()
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), data
