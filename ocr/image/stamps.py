"""Find round red stamps on a levelled page, so their ink is not taken for writing.

A commune's seal is pressed over the rows (often over empty ones at the end of a page) in red
stamp-pad ink: two rings, the unit's name around, a star in the middle. Its letters and rings
look like handwriting to the ink mask, so a stamp over an empty row made that row a record.

A stamp is recognised by colour AND shape, so red handwriting (corrections are sometimes made in
red) is never taken for one: stamp-red ink (it absorbs green and blue, not red) is grouped into
blobs, and a blob is one stamp, or two or three pressed over one another, when its outline
follows seal-sized circles round most of their rim and its ink lies inside them. Inside a
stamp's circle every ink pixel that is even a little stamp-red is the stamp's (the imprint is
unevenly inked); blue, black or violet writing under it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Stamp-pad ink absorbs green and blue and lets red through. Measured against the paper around
# it (greenish to yellowed, under uneven light): how much more green or blue it takes away than
# red (grey levels), and red's share of what it takes away. A faint imprint, its colour thinned
# further by the JPEG's halved colour resolution, takes 5-30 levels more green than red; a
# well-inked stroke 30-130. Black, blue and violet writing, a shadow or a fold take away at least
# as much red as green (share ~0.8-1.2), even where the JPEG mixes them with the paper.
STRONG_RED = 25  # levels: the strokes that seed a stamp's blob
FAINT_RED = 5  # levels: inside a found stamp's circle, ink this red is the stamp's too
MAX_RED_SHARE = 0.7  # red absorbed / green-or-blue absorbed (stamps: median 0.43, writing: 1.06)
MIN_STRONG_PIXELS = 50  # a blob without this much strongly red ink is not a stamp
# Seal diameters as a share of the page's width: a 3.5-4.5 cm seal on a 30-45 cm wide page is
# 0.08-0.15; down to a 2 cm seal on a wide page. A handwritten loop (a script "C" or "O", a
# circled value) stays under 0.04.
MIN_DIAMETER = 0.045
MAX_DIAMETER = 0.2
# A seal's ink lies inside its circle: the corners of its box (21% of the box) stay empty,
# where a block of red handwriting fills them about as much as the rest.
MAX_INK_OUTSIDE_CIRCLE = 0.06
CIRCLE_SLACK = 1.12  # the imprint's circle, measured to the ring's centre line, plus its blur
# ... and its outline goes round: it follows the circle in most sectors of the rim (a fifth of
# the ring may be too faint to be ink).
RIM_SECTORS = 24
MIN_RIM_COVERAGE = 0.6
MAX_CLUSTER = 3  # seals pressed over one another (one blob) are told apart up to this many
RANSAC_TRIES = 300
MAX_OUTLINE_POINTS = 1500


@dataclass(frozen=True)
class Stamp:
    x: float  # centre, page px
    y: float
    radius: float


@dataclass(frozen=True)
class Stamps:
    found: list[Stamp]
    ink: np.ndarray  # uint8 0/255: the stamps' ink pixels (to be taken out of the text mask)


def red_excess(page: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Per pixel, how much more green or blue than red it absorbs against the ``paper`` colour
    (B, G, R), in grey levels; 0 where red takes more than MAX_RED_SHARE of it (not stamp ink)."""
    if page.ndim == 2:
        return np.zeros(page.shape, np.int16)
    taken = paper.astype(np.int16) - page[:, :, :3].astype(np.int16)  # absorbed per channel
    other = np.maximum(taken[:, :, 0], taken[:, :, 1])
    red = taken[:, :, 2]
    excess = other - red
    excess[red > MAX_RED_SHARE * other] = 0
    return excess


def find_stamps(page: np.ndarray, text: np.ndarray) -> Stamps:
    """Round red stamps on a BGR page and their ink, within ``text`` (the ink mask without the
    rulings: red-printed rulings would join every stamp into one grid-sized blob)."""
    red = red_excess(page, _paper_colour(page, text))
    reddish = (red > FAINT_RED) & (text > 0)
    strong = reddish & (red > STRONG_RED)
    width = text.shape[1]
    # Join a stamp's letters and ring pieces into one blob (gaps up to ~1/150 of the page); its
    # faint parts join through the reddish ink, but only blobs holding strong red are candidates.
    reach = max(3, width // 150) | 1
    blobs = cv2.dilate(reddish.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    strong_per_blob = np.bincount(labels[strong], minlength=count)
    radii = (MIN_DIAMETER * width / 2 + reach / 2, MAX_DIAMETER * width / 2 + reach / 2)
    found: list[Stamp] = []
    stamp_ink = np.zeros_like(text)
    for label in np.flatnonzero(strong_per_blob >= MIN_STRONG_PIXELS):
        x, y, w, h = (int(v) for v in stats[label, :4])
        if label == 0 or max(w, h) < 2 * radii[0] or max(w, h) > MAX_CLUSTER * 2 * radii[1]:
            continue
        blob = (labels[y : y + h, x : x + w] == label).astype(np.uint8)
        outline = _outline(blob) + (x, y)
        circles = _ring_circles(outline, radii, reach / 2)
        # Blob circles are fitted on the dilated outline: the imprint is half a reach inside.
        stamps = [Stamp(cx, cy, r - reach / 2) for cx, cy, r in circles]
        if not stamps or not _inside_circles(reddish[y : y + h, x : x + w] & (blob > 0), stamps, x, y):
            continue
        for stamp in stamps:
            found.append(stamp)
            _mark_stamp_ink(stamp_ink, stamp, page, text)
    return Stamps(found, stamp_ink)


def _paper_colour(page: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Median B, G, R of the pixels that are not ink (every 4th pixel: plenty for a median)."""
    if page.ndim == 2:
        return np.zeros(3)
    paper = page[::4, ::4][ink[::4, ::4] == 0]
    return np.median(paper[:, :3], axis=0) if len(paper) else np.full(3, 255.0)


def _outline(blob: np.ndarray) -> np.ndarray:
    """(N, 2) x, y points of the blob's outer contour, at most MAX_OUTLINE_POINTS."""
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    step = max(1, len(points) // MAX_OUTLINE_POINTS)
    return points[::step]


def _ring_circles(points: np.ndarray, radii: tuple[float, float], tolerance: float) -> list[tuple[float, float, float]]:
    """Circles of seal size that the outline follows round most of their rim (RANSAC, seeded:
    the same page gives the same circles). Overlapping seals make one blob whose outline is
    arcs of two or three circles: each found circle's points are taken out and the search goes on.
    """
    rng = np.random.default_rng(0)
    circles: list[tuple[float, float, float]] = []
    while len(circles) < MAX_CLUSTER and len(points) >= 3:
        triples = points[rng.integers(0, len(points), size=(RANSAC_TRIES, 3))]
        centres, r = _circumcircles(triples)
        usable = np.flatnonzero((r >= radii[0]) & (r <= radii[1]))
        if len(usable) == 0:
            break
        centres, r = centres[usable], r[usable]
        offsets = points[None, :, :] - centres[:, None, :]  # (K, N, 2)
        inlier = np.abs(np.hypot(offsets[..., 0], offsets[..., 1]) - r[:, None]) <= tolerance
        angles = np.arctan2(offsets[..., 1], offsets[..., 0])
        sectors = np.clip(((angles + np.pi) / (2 * np.pi) * RIM_SECTORS).astype(int), 0, RIM_SECTORS - 1)
        keys = (np.arange(len(r))[:, None] * RIM_SECTORS + sectors)[inlier]
        covered = (np.bincount(keys, minlength=len(r) * RIM_SECTORS).reshape(len(r), RIM_SECTORS) > 0).sum(axis=1)
        best = int(np.argmax(covered + inlier.mean(axis=1)))  # most of the rim, then most points
        if covered[best] < MIN_RIM_COVERAGE * RIM_SECTORS:
            break
        circles.append((float(centres[best, 0]), float(centres[best, 1]), float(r[best])))
        points = points[~inlier[best]]
    return circles


def _circumcircles(triples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (K, 2) and radii (K,) of the circles through each (3, 2) triple (inf radius when
    the points are in a line)."""
    a, b, c = triples[:, 0], triples[:, 1], triples[:, 2]
    d = 2 * (a[:, 0] * (b[:, 1] - c[:, 1]) + b[:, 0] * (c[:, 1] - a[:, 1]) + c[:, 0] * (a[:, 1] - b[:, 1]))
    safe = np.where(np.abs(d) < 1e-9, np.nan, d)
    na, nb, nc = (a ** 2).sum(axis=1), (b ** 2).sum(axis=1), (c ** 2).sum(axis=1)
    ux = (na * (b[:, 1] - c[:, 1]) + nb * (c[:, 1] - a[:, 1]) + nc * (a[:, 1] - b[:, 1])) / safe
    uy = (na * (c[:, 0] - b[:, 0]) + nb * (a[:, 0] - c[:, 0]) + nc * (b[:, 0] - a[:, 0])) / safe
    centres = np.stack([ux, uy], axis=1)
    radii = np.nan_to_num(np.hypot(a[:, 0] - ux, a[:, 1] - uy), nan=np.inf)
    return centres, radii


def _inside_circles(pixels: np.ndarray, stamps: list[Stamp], x0: int, y0: int) -> bool:
    """The blob's red ink lies inside its circles: a block of red handwriting whose outline a
    circle happens to follow still has ink in the corners of its box."""
    ys, xs = np.nonzero(pixels)
    if len(xs) == 0:
        return False
    outside = np.ones(len(xs), dtype=bool)
    for stamp in stamps:
        outside &= np.hypot(xs + x0 - stamp.x, ys + y0 - stamp.y) > CIRCLE_SLACK * stamp.radius
    return float(outside.mean()) <= MAX_INK_OUTSIDE_CIRCLE


def _mark_stamp_ink(stamp_ink: np.ndarray, stamp: Stamp, page: np.ndarray, ink: np.ndarray) -> None:
    """Set the ink pixels of the stamp's circle that are stamp-red (in place), against the paper
    right there: light and stains vary over a page."""
    height, width = ink.shape
    r = stamp.radius * CIRCLE_SLACK
    x0, x1 = max(0, int(stamp.x - r)), min(width, int(np.ceil(stamp.x + r)) + 1)
    y0, y1 = max(0, int(stamp.y - r)), min(height, int(np.ceil(stamp.y + r)) + 1)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inside = np.hypot(xs - stamp.x, ys - stamp.y) <= r
    area, ink = page[y0:y1, x0:x1], ink[y0:y1, x0:x1]
    mine = inside & (red_excess(area, _paper_colour(area, ink)) > FAINT_RED) & (ink > 0)
    stamp_ink[y0:y1, x0:x1][mine] = 255
