"""Find the page on the scanner bed, measure its skew from the printed rulings and text, level it.

The angle comes from the content (ruling and text lines), not from the page edge: paper is
often cut or placed crooked relative to the printed grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.imaging import ink_gray, ink_mask, resize_to_width, to_gray
from ocr.settings import DeskewSettings
from ocr.types import Box

WHITE = (255, 255, 255)


@dataclass
class PageRegion:
    mask: np.ndarray  # uint8 0/255 at full resolution: 255 on the paper
    outline: np.ndarray  # (N, 2) float convex outline of the paper in original coordinates
    box: Box  # bounding box of the paper in original coordinates
    border_found: bool  # a dark scanner bed surrounded (part of) the page


@dataclass
class DeskewResult:
    image: np.ndarray  # BGR, levelled and cropped to the page
    angle_deg: float  # counter-clockwise degrees the scan was rotated by to level it
    transform: np.ndarray  # 2x3 float64, original pixel coords -> deskewed pixel coords
    page_box: Box  # paper bounding box in original coordinates
    border_found: bool


def find_page_region(image: np.ndarray, analysis_width: int = 600) -> PageRegion:
    """Locate the bright paper against a dark scanner bed; the whole image if there is no bed."""
    gray = to_gray(image)
    height, width = gray.shape
    small, scale = resize_to_width(gray, analysis_width)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    threshold, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    whole = _whole_image_region(width, height)
    # Otsu on a page without a bed splits ink from paper; a real bed is much darker than paper.
    dark_share = float(np.mean(small < min(threshold, 110)))
    if dark_share < 0.01:
        return whole
    # Close over ink strokes, so the paper is one component even with dense text on it.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return whole
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < 0.3 * small.size:
        return whole
    hull = cv2.convexHull(largest)
    small_mask = np.zeros_like(small)
    cv2.fillPoly(small_mask, [hull], 255)
    # A bed that only shows as dark specks inside the page is not a bed.
    outside = small_mask == 0
    if outside.mean() < 0.005 or float(np.median(small[outside])) > min(threshold, 140):
        return whole
    small_mask = cv2.erode(small_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    mask = cv2.resize(small_mask, (width, height), interpolation=cv2.INTER_NEAREST)
    x, y, w, h = cv2.boundingRect(hull)
    box = Box(
        round(x / scale), round(y / scale), min(width, round(w / scale)), min(height, round(h / scale))
    )
    outline = hull.reshape(-1, 2).astype(np.float64) / scale
    return PageRegion(mask, outline, box, True)


def _whole_image_region(width: int, height: int) -> PageRegion:
    outline = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    return PageRegion(np.full((height, width), 255, np.uint8), outline, Box(0, 0, width, height), False)


def _projection_score(xs: np.ndarray, ys: np.ndarray, angle_deg: float, bins_y: int, bins_x: int) -> float:
    """Sharpness of the row and column ink profiles after rotating the points by angle_deg.

    Level rulings and text lines pile their pixels into few rows (and vertical rulings into few
    columns), which maximises the sum of squared bin counts.
    """
    theta = np.deg2rad(angle_deg)
    cos, sin = np.cos(theta), np.sin(theta)
    # Same convention as cv2.getRotationMatrix2D: positive angle = counter-clockwise on screen.
    rows = (-sin * xs + cos * ys).astype(np.int32)
    cols = (cos * xs + sin * ys).astype(np.int32)
    rows -= rows.min()
    cols -= cols.min()
    row_counts = np.bincount(rows, minlength=bins_y).astype(np.float64)
    col_counts = np.bincount(cols, minlength=bins_x).astype(np.float64)
    return float(np.dot(row_counts, row_counts) + np.dot(col_counts, col_counts))


def _ink_points(gray: np.ndarray, paper: np.ndarray, width: int, max_points: int) -> tuple[np.ndarray, ...]:
    small, scale = resize_to_width(gray, width)
    block = max(15, round(small.shape[1] / 60))
    mask = ink_mask(small, block, 10)
    paper_small = cv2.resize(paper, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    # Stay clear of the paper edge: its shadow would vote for the edge angle, not the print.
    margin = max(3, round(small.shape[1] / 100))
    paper_small = cv2.erode(paper_small, cv2.getStructuringElement(cv2.MORPH_RECT, (margin, margin)))
    mask &= paper_small
    ys, xs = np.nonzero(mask)
    if len(xs) > max_points:
        step = len(xs) // max_points + 1
        xs, ys = xs[::step], ys[::step]
    cx, cy = small.shape[1] / 2, small.shape[0] / 2
    return xs.astype(np.float64) - cx, ys.astype(np.float64) - cy, np.array(small.shape)


def _best_angle(xs: np.ndarray, ys: np.ndarray, shape: np.ndarray, angles: np.ndarray) -> float:
    diagonal = int(np.hypot(*shape)) + 2
    scores = np.array([_projection_score(xs, ys, a, diagonal, diagonal) for a in angles])
    best = int(np.argmax(scores))
    if 0 < best < len(angles) - 1:
        # Parabolic interpolation between the neighbouring angles for sub-step precision.
        left, mid, right = scores[best - 1 : best + 2]
        denominator = left - 2 * mid + right
        if denominator < 0:
            step = angles[1] - angles[0]
            return float(angles[best] + 0.5 * step * (left - right) / denominator)
    return float(angles[best])


def estimate_skew(gray: np.ndarray, paper: np.ndarray, settings: DeskewSettings) -> float:
    """Counter-clockwise angle (degrees) that levels the printed lines; coarse-to-fine search."""
    xs, ys, shape = _ink_points(gray, paper, settings.coarse_width, 60_000)
    if len(xs) < 200:
        return 0.0  # nothing printed to measure
    limit = settings.max_angle_deg
    coarse = _best_angle(xs, ys, shape, np.arange(-limit, limit + 1e-9, settings.coarse_step_deg))
    xs, ys, shape = _ink_points(gray, paper, settings.fine_width, 250_000)
    span = settings.coarse_step_deg
    medium = _best_angle(xs, ys, shape, np.arange(coarse - span, coarse + span + 1e-9, span / 8))
    fine_span = span / 8
    step = settings.fine_step_deg
    return _best_angle(xs, ys, shape, np.arange(medium - fine_span, medium + fine_span + 1e-9, step))


def deskew_page(image: np.ndarray, settings: DeskewSettings = DeskewSettings()) -> DeskewResult:
    """Crop the page off the scanner bed and rotate it level (white fill)."""
    height, width = image.shape[:2]
    region = find_page_region(image) if settings.remove_border else _whole_image_region(width, height)
    angle = estimate_skew(ink_gray(image), region.mask, settings)
    box = region.box
    center = (box.x + box.w / 2, box.y + box.h / 2)
    matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
    moved = map_points(matrix, region.outline)
    x0, y0 = np.floor(moved.min(axis=0))
    x1, y1 = np.ceil(moved.max(axis=0))
    matrix[:, 2] -= (x0, y0)
    out_size = (int(x1 - x0), int(y1 - y0))
    source = image
    if region.border_found:
        # Paint the scanner bed white so it cannot look like ink or rulings downstream.
        source = image.copy()
        source[region.mask == 0] = WHITE
    levelled = cv2.warpAffine(
        source, matrix, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=WHITE
    )
    return DeskewResult(levelled, angle, matrix, region.box, region.border_found)


def map_points(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine transform to an (N, 2) array of points."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ transform[:, :2].T + transform[:, 2]


def compose(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """2x3 affine equal to applying ``first`` then ``second``."""
    a = np.vstack([first, [0, 0, 1]])
    b = np.vstack([second, [0, 0, 1]])
    return (b @ a)[:2]
