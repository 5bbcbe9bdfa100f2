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


def jpeg_bytes(image: np.ndarray, quality: int = 85) -> bytes:
    """A BGR image as JPEG file bytes."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the image as JPEG")
    return encoded.tobytes()


def jpeg_data_url(image: np.ndarray, quality: int = 85) -> str:
    """A `data:` URL, so the keyboard helper can swap crops without a server round trip."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(image, quality)).decode("ascii")


def thumbnail(image: np.ndarray, width: int = 240) -> np.ndarray:
    return to_rgb(fit_width(image, width))


COLUMN_LINE_BGR = (200, 90, 0)  # blue: column rulings
ROW_LINE_BGR = (0, 0, 220)  # red: row rulings
HEADER_LINE_BGR = (0, 150, 0)  # green: the header's bottom (the first row line)


def draw_numbered_grid(image: np.ndarray, column_lines: list[int], row_lines: list[int]) -> np.ndarray:
    """The grid editor's preview: column lines (blue, numbered along the top) and row lines (red,
    numbered down the left; the header's bottom, line 1, in green) over a copy of the page. The
    numbers are the ones the editor's inputs carry, so a line on the picture can be found there.
    The lines are see-through, so a close-up shows whether one lies on the printed ruling."""
    height, width = image.shape[:2]
    thickness = max(2, round(min(width, height) / 600))
    scale = max(0.6, width / 1800)
    top = min(row_lines) if row_lines else 0
    bottom = max(row_lines) if row_lines else height - 1
    left = min(column_lines) if column_lines else 0
    right = max(column_lines) if column_lines else width - 1
    lines = image.copy()
    labels: list[tuple[str, tuple[int, int], tuple[int, int, int]]] = []
    for number, x in enumerate(column_lines, start=1):
        cv2.line(lines, (int(x), max(0, top - 40)), (int(x), min(height - 1, bottom + 40)), COLUMN_LINE_BGR, thickness)
        labels.append((str(number), (int(x) + 4, max(18, top - 48)), COLUMN_LINE_BGR))
    for number, y in enumerate(row_lines, start=1):
        color = HEADER_LINE_BGR if number == 1 else ROW_LINE_BGR
        cv2.line(lines, (max(0, left - 40), int(y)), (min(width - 1, right + 40), int(y)), color, thickness)
        labels.append((str(number), (max(2, left - 40 - int(34 * scale)), int(y) + 8), color))
    shown = cv2.addWeighted(lines, 0.65, image, 0.35, 0)
    for text, origin, color in labels:
        _label(shown, text, origin, color, scale)
    return shown


def draw_boxes(image: np.ndarray, boxes: list[tuple[int, int, int, int]], color: tuple[int, int, int] = HEADER_LINE_BGR,
               ) -> np.ndarray:
    """A copy of the page with each (x, y, w, h) box outlined and numbered from 1 (the new records)."""
    shown = image.copy()
    height, width = shown.shape[:2]
    thickness = max(2, round(min(width, height) / 500))
    for number, box in enumerate(boxes, start=1):
        x, y, w, h = clip_box(box, width, height)
        cv2.rectangle(shown, (x, y), (x + w - 1, y + h - 1), color, thickness)
        _label(shown, str(number), (x + 6, y + h - 8), color, max(0.6, width / 1800))
    return shown


def _label(image: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int], scale: float) -> None:
    """Digits on a white patch, readable over handwriting."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    weight = max(1, round(2 * scale))
    (w, h), base = cv2.getTextSize(text, font, scale, weight)
    x, y = origin
    cv2.rectangle(image, (x - 2, y - h - 2), (x + w + 2, y + base), (255, 255, 255), -1)
    cv2.putText(image, text, (x, y), font, scale, color, weight, cv2.LINE_AA)


def line_window(image: np.ndarray, vertical: bool, position: int, half: int = 160,
                along: tuple[int, int] | None = None) -> np.ndarray:
    """The page around one line at full resolution (the editor's close-up): a band ``half`` px
    either side of x = position (vertical) or y = position (horizontal), clipped to the page, and
    along the line only from ``along[0]`` to ``along[1]`` when given (a few rows, not the whole page)."""
    height, width = image.shape[:2]
    extent, length = (width, height) if vertical else (height, width)
    start = min(max(0, int(position) - half), max(0, extent - 2 * half))
    end = min(extent, start + 2 * half)
    first, last = (0, length) if along is None else (max(0, along[0]), min(length, along[1]))
    if last <= first:
        first, last = 0, length
    return image[first:last, start:end] if vertical else image[start:end, first:last]
