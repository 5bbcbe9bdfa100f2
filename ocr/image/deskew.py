"""Find the page on the scanner bed, measure its skew from the printed rulings and text, level it.

The angle comes from the content (ruling and text lines), not from the page edge: paper is
often cut or placed crooked relative to the printed grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.image.imaging import ink_gray, ink_mask, resize_to_width, small_ink_gray, to_gray
from ocr.settings import DeskewSettings
from ocr.types import Box

WHITE = (255, 255, 255)
# Paper is a rectangle: a bright outline filling less of its smallest rotated rectangle than this
# was cut by a shadow falling on the paper (a photographed page under uneven light), not by the
# paper's edge (pages measured 0.997 and more; a shadowed corner 0.87). Painting that "bed" white
# would erase the writing in it.
PAPER_RECTANGULARITY = 0.97


@dataclass
class PageRegion:
    mask: np.ndarray  # uint8 0/255 at analysis resolution: 255 on the paper
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
    whole = _whole_image_region(width, height, small.shape)
    threshold, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Otsu on a page without a bed splits ink from paper; a real bed is much darker than paper.
    if float(np.mean(small < min(threshold, 110))) < 0.01:
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
    hull = _paper_outline(cv2.convexHull(largest), small.shape)
    mask = np.zeros_like(small)
    cv2.fillPoly(mask, [hull], 255)
    # A bed that only shows as dark specks inside the page is not a bed.
    outside = mask == 0
    if outside.mean() < 0.005 or float(np.median(small[outside])) > min(threshold, 140):
        return whole
    x, y, w, h = cv2.boundingRect(hull)
    box = Box(
        round(x / scale), round(y / scale), min(width, round(w / scale)), min(height, round(h / scale))
    )
    outline = (hull.reshape(-1, 2).astype(np.float64) + 0.5) / scale - 0.5
    return PageRegion(mask, outline, box, True)


def _paper_outline(hull: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The bright region's convex hull, or the smallest rotated rectangle around it (clipped to
    the image) when the hull is no rectangle (PAPER_RECTANGULARITY): a shadow cut a corner off."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(hull)
    if cv2.contourArea(hull) >= PAPER_RECTANGULARITY * w * h:
        return hull
    corners = cv2.boxPoints(((cx, cy), (w, h), angle))
    corners = np.clip(np.round(corners), 0, [shape[1] - 1, shape[0] - 1]).astype(np.int32)
    return corners.reshape(-1, 1, 2)


def _whole_image_region(width: int, height: int, mask_shape: tuple[int, ...]) -> PageRegion:
    outline = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    mask = np.full(mask_shape[:2], 255, np.uint8)
    return PageRegion(mask, outline, Box(0, 0, width, height), False)


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
    xs, ys, shape = _ink_points(gray, paper, settings.coarse_width, 40_000)
    if len(xs) < 200:
        return 0.0  # nothing printed to measure
    limit = settings.max_angle_deg
    coarse = _best_angle(xs, ys, shape, np.arange(-limit, limit + 1e-9, settings.coarse_step_deg))
    xs, ys, shape = _ink_points(gray, paper, settings.fine_width, 150_000)
    span = settings.coarse_step_deg
    medium = _best_angle(xs, ys, shape, np.arange(coarse - span, coarse + span + 1e-9, span / 8))
    fine_span = span / 8
    step = settings.fine_step_deg
    return _best_angle(xs, ys, shape, np.arange(medium - fine_span, medium + fine_span + 1e-9, step))


def deskew_page(image: np.ndarray, settings: DeskewSettings = DeskewSettings(),
                preview: np.ndarray | None = None) -> DeskewResult:
    """Crop the page off the scanner bed and rotate it level (white fill outside the paper).

    ``preview`` may pass in the image already downscaled to ``settings.fine_width``.
    """
    height, width = image.shape[:2]
    # One shared downscaled copy for the page search and the angle (full resolution is not needed).
    if preview is None:
        preview, _ = resize_to_width(image, settings.fine_width)
    if settings.remove_border:
        region = find_page_region(image if preview is image else preview)
        if preview is not image:
            scale_back = width / preview.shape[1]
            region.outline = (region.outline + 0.5) * scale_back - 0.5
            region.box = _scaled_box(region.box, scale_back, width, height)
    else:
        region = _whole_image_region(width, height, preview.shape)
    angle = estimate_skew(ink_gray(preview), region.mask, settings)
    box = region.box
    center = (box.x + box.w / 2, box.y + box.h / 2)
    matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
    moved = map_points(matrix, region.outline)
    x0, y0 = np.floor(moved.min(axis=0))
    x1, y1 = np.ceil(moved.max(axis=0))
    matrix[:, 2] -= (x0, y0)
    out_size = (int(x1 - x0), int(y1 - y0))
    levelled = cv2.warpAffine(
        image, matrix, out_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=WHITE
    )
    if region.border_found:
        # Paint the scanner bed white so it cannot look like ink or rulings downstream; the
        # outline is a few px coarse, so stay a little inside it.
        paper = np.zeros(levelled.shape[:2], np.uint8)
        cv2.fillPoly(paper, [np.round(moved - (x0, y0)).astype(np.int32)], 255)
        inset = max(3, round(width / 400))
        paper = cv2.erode(paper, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * inset + 1, 2 * inset + 1)))
        levelled = cv2.bitwise_or(levelled, cv2.cvtColor(cv2.bitwise_not(paper), cv2.COLOR_GRAY2BGR))
    else:
        # No dark bed: the paper may still lie on a lighter lid; crop to it when it does.
        paper_box = paper_on_light_background(levelled)
        if paper_box is not None:
            levelled = levelled[paper_box.y : paper_box.y + paper_box.h, paper_box.x : paper_box.x + paper_box.w]
            matrix[:, 2] -= (paper_box.x, paper_box.y)
    return DeskewResult(np.ascontiguousarray(levelled), angle, matrix, region.box, region.border_found)


def _step_edges(gray: np.ndarray, reach: int, min_step: float) -> tuple[int | None, int | None]:
    """Rows of the strongest bright-to-dark step near the top and dark-to-bright near the bottom.

    The median across each row keeps only steps that run along most of the row (a paper edge),
    not text or thin rulings (equal paper on both sides) or a smooth lighting gradient. A step
    shows as a run of 2 * reach strong differences; its middle is the edge.
    """
    values = gray.astype(np.int16)
    steps = np.median(values[2 * reach :] - values[: -2 * reach], axis=1)  # index y <-> row y + reach
    third = len(steps) // 3
    if third == 0:
        return None, None

    def edge(part: np.ndarray, offset: int, inner_is_last: bool) -> int | None:
        # Fill -> lid -> paper can make two steps: the paper's edge is the one nearest the
        # page centre.
        strong = part > min_step
        runs = np.flatnonzero(np.diff(np.concatenate([[0], strong.astype(np.int8), [0]])))
        if len(runs) == 0:
            return None
        starts, ends = runs[::2], runs[1::2]
        start, end = (starts[-1], ends[-1]) if inner_is_last else (starts[0], ends[0])
        return offset + int(round((start + end - 1) / 2)) + reach

    top = edge(-steps[:third], 0, inner_is_last=True)
    bottom = edge(steps[-third:], len(steps) - third, inner_is_last=False)
    return top, bottom


def paper_on_light_background(levelled: np.ndarray, analysis_width: int = 600,
                              min_step: float = 4.0) -> Box | None:
    """Box of a levelled page lying on a lid brighter than the paper (or on the white fill).

    After levelling, the paper's edges are straight, axis-aligned steps from the brighter lid to
    the paper; each side is cropped at its step when one is found. None when no edge is seen.
    """
    small = small_ink_gray(levelled, analysis_width)
    scale = small.shape[1] / levelled.shape[1]
    # Closing erases thin dark things (rulings, text, the edge shadow) but keeps real steps.
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    reach = 3
    top, bottom = _step_edges(small, reach, min_step)
    left, right = _step_edges(small.T, reach, min_step)
    if top is None and bottom is None and left is None and right is None:
        return None
    h, w = small.shape
    inset = 2  # step past the shadow that lines the paper edge
    y0 = top + inset if top is not None else 0
    y1 = bottom - inset if bottom is not None else h
    x0 = left + inset if left is not None else 0
    x1 = right - inset if right is not None else w
    if (y1 - y0) < 0.5 * h or (x1 - x0) < 0.5 * w:
        return None
    height, width = levelled.shape[:2]
    bx0, by0 = max(0, int(x0 / scale)), max(0, int(y0 / scale))
    bx1, by1 = min(width, int(np.ceil(x1 / scale))), min(height, int(np.ceil(y1 / scale)))
    return Box(bx0, by0, bx1 - bx0, by1 - by0)


def _scaled_box(box: Box, factor: float, width: int, height: int) -> Box:
    x, y = round(box.x * factor), round(box.y * factor)
    return Box(x, y, min(width - x, round(box.w * factor)), min(height - y, round(box.h * factor)))


def map_points(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine transform to an (N, 2) array of points."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ transform[:, :2].T + transform[:, 2]


def compose(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """2x3 affine equal to applying ``first`` then ``second``."""
    a = np.vstack([first, [0, 0, 1]])
    b = np.vstack([second, [0, 0, 1]])
    return (b @ a)[:2]
