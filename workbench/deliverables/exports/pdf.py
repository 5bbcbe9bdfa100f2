"""One colour PDF per registration: the ledger row with the printed column headers above it.

The crop is JPEG-encoded once at the highest quality that meets the size budget (about
100 kB per A4 page equivalent, as the digitisation guidance asks) and embedded by img2pdf
without re-encoding.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import img2pdf
import numpy as np
from PIL import Image

Box = tuple[int, int, int, int]  # x, y, w, h

ASSUMED_DPI = 200  # ingest rasterises PDFs at 200 dpi; photos carry no reliable DPI
A4_BYTES = 100_000  # size budget per A4 page equivalent
MIN_BYTES = 60_000  # a single narrow row still needs legible handwriting (well under one A4 page)
A4_PIXELS = round(8.27 * ASSUMED_DPI) * round(11.69 * ASSUMED_DPI)
MARGIN_PX = 8
QUALITY_RANGE = (40, 90)
MIN_SCALE = 0.75  # below ~150 dpi diacritics blur


@dataclass(frozen=True)
class RecordPdf:
    data: bytes
    jpeg_bytes: int
    quality: int
    scale: float
    width: int
    height: int


def _clamp(box: Box, width: int, height: int, margin: int = 0) -> Box:
    x0, y0 = max(0, box[0] - margin), max(0, box[1] - margin)
    x1, y1 = min(width, box[0] + box[2] + margin), min(height, box[1] + box[3] + margin)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def header_band(record_boxes: list[Box], header_bbox: Box | None) -> Box | None:
    """The printed column headers: the stored header box, else the band just above the first row."""
    if header_bbox is not None and header_bbox[2] > 0 and header_bbox[3] > 0:
        return header_bbox
    if not record_boxes:
        return None
    first = min(record_boxes, key=lambda b: b[1])
    row_height = float(np.median([b[3] for b in record_boxes]))
    height = min(first[1], round(1.2 * row_height))
    if height <= 0:
        return None
    return first[0], first[1] - height, first[2], height


def compose_record_image(page_rgb: np.ndarray, record_box: Box, header: Box | None) -> np.ndarray:
    """Header band stacked above the record row, both cut to the same horizontal span."""
    height, width = page_rgb.shape[:2]
    row = _clamp(record_box, width, height, MARGIN_PX)
    if row[2] == 0 or row[3] == 0:
        raise ValueError(f"record box {record_box} lies outside the {width}x{height} page")
    x0, x1 = row[0], row[0] + row[2]
    parts = []
    if header is not None:
        head = _clamp(header, width, height)
        x0, x1 = min(x0, head[0]), max(x1, head[0] + head[2])
        # A header that overlaps the row (rows right under the headers) is cut where the row starts.
        head_bottom = min(head[1] + head[3], row[1])
        if head_bottom > head[1]:
            parts.append(page_rgb[head[1]:head_bottom, x0:x1])
    parts.append(page_rgb[row[1]:row[1] + row[3], x0:x1])
    return np.ascontiguousarray(np.vstack(parts))


def size_budget(width: int, height: int) -> int:
    return max(MIN_BYTES, round(A4_BYTES * (width * height) / A4_PIXELS))


def _encode(image: Image.Image, quality: int, scale: float, optimize: bool = False) -> bytes:
    buffer = io.BytesIO()
    dpi = round(ASSUMED_DPI * scale)  # a shrunk image keeps its physical page size
    image.save(buffer, format="JPEG", quality=quality, optimize=optimize, dpi=(dpi, dpi))
    return buffer.getvalue()


def encode_within_budget(rgb: np.ndarray) -> tuple[bytes, int, float]:
    """(JPEG bytes, quality, scale): the best quality under the budget, shrinking only if needed."""
    original = Image.fromarray(rgb, mode="RGB")
    scale = 1.0
    while True:
        image = original if scale == 1.0 else original.resize(
            (max(1, round(original.width * scale)), max(1, round(original.height * scale))), Image.Resampling.LANCZOS
        )
        budget = size_budget(original.width, original.height)
        low, high = QUALITY_RANGE
        best: int | None = None
        while low <= high:  # binary search for the highest quality that fits
            quality = (low + high) // 2
            if len(_encode(image, quality, scale)) <= budget:
                best, low = quality, quality + 1
            else:
                high = quality - 1
        if best is not None:
            # Optimised Huffman tables only shrink the file: search fast, encode the result once more.
            return _encode(image, best, scale, optimize=True), best, scale
        if scale <= MIN_SCALE:  # legibility wins over the budget
            return _encode(image, QUALITY_RANGE[0], scale, optimize=True), QUALITY_RANGE[0], scale
        scale = max(MIN_SCALE, scale * 0.8)


def record_pdf(page_rgb: np.ndarray, record_box: Box, header: Box | None) -> RecordPdf:
    image = compose_record_image(page_rgb, record_box, header)
    jpeg, quality, scale = encode_within_budget(image)
    # img2pdf wraps the JPEG stream as-is (DCTDecode): no second lossy pass.
    data = img2pdf.convert(jpeg)
    return RecordPdf(data, len(jpeg), quality, scale, image.shape[1], image.shape[0])
