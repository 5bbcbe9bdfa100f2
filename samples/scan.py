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


def paper(gen: RNG, rng: random.Random, height: int, width: int) -> list[np.ndarray]:
    """Aged paper as three float32 B, G, R planes (0..255): cream base, blotchy tone, fine grain.

    The flat page stays planar until it is warped: contiguous 2-D planes make every
    per-pixel step several times cheaper than interleaved 3-channel float maths.
    """
    base = (rng.uniform(200, 225), rng.uniform(222, 238), rng.uniform(232, 245))
    shade = _smooth_noise(gen, (height, width), 12, 4.0) + _smooth_noise(gen, (height, width), 60, 1.5)
    shade += cv2.resize(gen.normal(0, 3.0, (height // 2, width // 2)).astype(np.float32), (width, height))
    return [shade + np.float32(b) for b in base]


def add_stains(planes: list[np.ndarray], gen: RNG, rng: random.Random, count: int) -> None:
    """Brownish water/tea stains and foxing spots, in place."""
    if count <= 0:
        return
    h, w = planes[0].shape
    small = np.zeros((h // 8, w // 8), np.float32)
    for _ in range(count):
        cx, cy = rng.uniform(0, w // 8), rng.uniform(0, h // 8)
        axes = (rng.uniform(3, 25), rng.uniform(3, 20))
        cv2.ellipse(small, (int(cx), int(cy)), (int(axes[0]), int(axes[1])), rng.uniform(0, 180), 0, 360,
                    rng.uniform(0.06, 0.25), -1)
    small = cv2.GaussianBlur(small, (0, 0), 2.5)
    small *= 1 + _smooth_noise(gen, small.shape, 20, 0.4)
    mask = cv2.resize(small, (w, h))
    for plane, stain in zip(planes, (60, 110, 140), strict=True):  # BGR of a brown stain
        plane *= 1 - mask * np.float32(1 - stain / 255.0)


def composite(planes: list[np.ndarray], alpha: np.ndarray, color: tuple[int, int, int]) -> None:
    """Lay ink of `color` with opacity `alpha` over the page planes, in place.

    Only the rows/columns the ink touches are processed.
    """
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if len(rows) == 0:
        return
    ys, xs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    a = alpha[ys, xs]
    for plane, c in zip(planes, color, strict=True):
        region = plane[ys, xs]
        region -= a * (region - np.float32(c))


def to_uint8(planes: list[np.ndarray]) -> np.ndarray:
    """Merge B, G, R float planes into one HxWx3 uint8 image."""
    return cv2.merge([np.clip(p, 0, 255).astype(np.uint8) for p in planes])


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


def scan_page(flat: np.ndarray, matrix: np.ndarray, out_w: int, out_h: int, border: bool,
              light: float, blur: float, noise: float, gen: RNG, rng: random.Random) -> np.ndarray:
    """Place the flat uint8 page on the scanner bed and add the scanner's own defects.

    Dark bed (or white lid when border=False), shadow along the paper edge, uneven light
    (darker toward one side, as near a book's spine), optics blur and sensor noise.
    Each output plane is warped * gain + offset, with gain and offset 2-D maps.
    """
    warped = cv2.warpAffine(flat, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    if blur > 0:
        warped = cv2.GaussianBlur(warped, (0, 0), blur)
    mask = cv2.warpAffine(np.ones(flat.shape[:2], np.float32), matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)
    # Smooth maps are built at 1/8 resolution and upsampled once: bed tone, lighting, and the
    # shadow along the paper edge (the page curls away from the glass there).
    small = (out_w // 8, out_h // 8)
    mask_small = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
    edge = cv2.GaussianBlur(mask_small, (0, 0), 0.8)
    if border:
        bed = rng.uniform(15, 45) + _smooth_noise(gen, (small[1], small[0]), 8, 4.0)
    else:
        bed = rng.uniform(230, 245) + _smooth_noise(gen, (small[1], small[0]), 8, 2.0)
    lighting = _light_map(gen, rng, small[1], small[0], light)
    paper_gain = cv2.resize((0.75 + 0.25 * edge) * lighting, (out_w, out_h))
    bed_light = cv2.resize(bed * lighting, (out_w, out_h))
    gain = mask * paper_gain
    offset = bed_light - mask * bed_light
    if noise > 0:
        offset += gen.normal(0, noise, (out_h, out_w)).astype(np.float32)
    planes = [p.astype(np.float32) * gain + offset for p in cv2.split(warped)]
    return to_uint8(planes)


def _light_map(gen: RNG, rng: random.Random, h: int, w: int, strength: float) -> np.ndarray:
    if strength <= 0:
        return np.ones((h, w), np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    xs = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * math.cos(angle)
    ys = np.linspace(-1, 1, h, dtype=np.float32)[:, None] * math.sin(angle)
    ramp = (xs + ys) * 0.5 + 0.5  # 0..1 across the page
    return 1 - strength * ramp**2 + _smooth_noise(gen, (h, w), 4, strength * 0.2)


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
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return decoded, buf.tobytes()
