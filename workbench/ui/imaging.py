"""Display-only image rendering for the verification screen (outline, zoom, contrast, crops).

Pure functions over BGR uint8 arrays; nothing here changes stored images or proposals.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

OUTLINE_BGR = (0, 0, 230)  # red: the record being verified
CELL_BGR = (230, 120, 0)  # blue: the focused cell (when drawn)


@dataclass(frozen=True)
class ViewSettings:
    """What the official chose with the zoom/contrast controls."""

    zoom: float = 1.0  # 1 = whole page; >1 = a window around the record's row
    contrast: int = 0  # 0 = as scanned; 1..3 = stronger local contrast for faded ink


def clip_box(box: list[int] | tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) clipped to the image; never empty."""
    x, y, w, h = (int(v) for v in box)
    x0, y0 = min(max(0, x), width - 1), min(max(0, y), height - 1)
    x1, y1 = min(max(x0 + 1, x + w), width), min(max(y0 + 1, y + h), height)
    return x0, y0, x1 - x0, y1 - y0


def enhance_contrast(image: np.ndarray, level: int) -> np.ndarray:
    """Stretch lightness so the paper goes white and the faintest ink dark, then darken mid-tones.

    Works on the LAB lightness channel, so blue/red ink keeps its colour. Level 0 returns the image.
    """
    if level <= 0:
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    lightness = lab[:, :, 0].astype(np.float32)
    paper = float(np.percentile(lightness, 90))  # most of a ledger page is paper
    ink = float(np.percentile(lightness, 0.5))
    span = max(paper - ink, 8.0)  # an empty (blank) crop must not blow up noise
    stretched = np.clip((lightness - ink) / span, 0.0, 1.0) ** (1.0 + 0.4 * level)
    lab[:, :, 0] = (stretched * 255.0).astype(np.uint8)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def outline(image: np.ndarray, box: list[int], color: tuple[int, int, int] = OUTLINE_BGR) -> np.ndarray:
    """A copy of the page with `box` outlined and the rest of the page slightly dimmed."""
    height, width = image.shape[:2]
    x, y, w, h = clip_box(box, width, height)
    thickness = max(3, round(min(width, height) / 300))
    dimmed = cv2.addWeighted(image, 0.75, np.full_like(image, 255), 0.25, 0)
    dimmed[y : y + h, x : x + w] = image[y : y + h, x : x + w]
    cv2.rectangle(dimmed, (x, y), (x + w - 1, y + h - 1), color, thickness)
    return dimmed


def zoom_window(image: np.ndarray, box: list[int], zoom: float) -> np.ndarray:
    """The part of the page around `box` that a `zoom`x view shows (full width at zoom 1)."""
    if zoom <= 1.0:
        return image
    height, width = image.shape[:2]
    x, y, w, h = clip_box(box, width, height)
    view_w, view_h = max(w // 2, round(width / zoom)), max(h * 2, round(height / zoom))
    view_w, view_h = min(view_w, width), min(view_h, height)
    cx, cy = x + w // 2, y + h // 2
    left = min(max(0, cx - view_w // 2), width - view_w)
    top = min(max(0, cy - view_h // 2), height - view_h)
    return image[top : top + view_h, left : left + view_w]


def page_view(page: np.ndarray, record_box: list[int], settings: ViewSettings) -> np.ndarray:
    """The left-hand page image: contrast, then the record outlined, then the zoom window."""
    shown = enhance_contrast(page, settings.contrast)
    return zoom_window(outline(shown, record_box), record_box, settings.zoom)


def cell_crop(page: np.ndarray, box: list[int] | None, contrast: int = 0, pad: int = 12) -> np.ndarray | None:
    """The cell with a margin (handwriting often spills over the rulings); None without a box."""
    if not box:
        return None
    height, width = page.shape[:2]
    x, y, w, h = clip_box(box, width, height)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    return enhance_contrast(np.ascontiguousarray(page[y0:y1, x0:x1]), contrast)


def fit_width(image: np.ndarray, max_width: int) -> np.ndarray:
    """Downscale to at most `max_width` pixels wide (keeps transfers small)."""
    if image.shape[1] <= max_width:
        return image
    scale = max_width / image.shape[1]
    size = (max_width, max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def to_rgb(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def jpeg_data_url(image: np.ndarray, quality: int = 85) -> str:
    """A `data:` URL, so the keyboard helper can swap crops without a server round trip."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the crop as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def thumbnail(image: np.ndarray, width: int = 240) -> np.ndarray:
    return to_rgb(fit_width(image, width))


def draw_grid(image: np.ndarray, column_lines: list[int], row_lines: list[int],
              color: tuple[int, int, int] = OUTLINE_BGR) -> np.ndarray:
    """A copy of the page with the given vertical (x) and horizontal (y) lines drawn (segmentation preview)."""
    shown = image.copy()
    height, width = shown.shape[:2]
    thickness = max(2, round(min(width, height) / 500))
    for x in column_lines:
        cv2.line(shown, (int(x), 0), (int(x), height - 1), color, thickness)
    for y in row_lines:
        cv2.line(shown, (0, int(y)), (width - 1, int(y)), color, thickness)
    return shown
