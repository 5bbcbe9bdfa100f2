"""Labelled field cells cut from synthetic ledger pages (samples.render) for benchmarks.

Pages are rendered level (no skew, no 90-degree turn) and each written line is cut from the
page image at its true ink box plus a small white margin, i.e. with *oracle* segmentation:
this isolates recognition from page analysis. Values are the truth as written; the
expected proposal is ``normalize(field_type, truth)``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ocr.engines.base import to_gray
from ocr.fields.normalize import normalize
from ocr.types import Box, CellImage
from samples.render import PageOptions, render_page
from workbench.book_types import get_book_type

BOOK_TYPES = ("khai_sinh", "khai_tu", "ket_hon", "nuoi_con_nuoi")
LINE_MARGIN = 4  # px, as the page pipeline's CellSettings.padding


@dataclass
class FieldSample:
    page_id: str
    key: str
    field_type: str
    truth: str  # text as written
    expected: str  # normalize(field_type, truth)
    cell: CellImage


def _flat_box_to_image(box: list[int], flat_to_scan: np.ndarray, shape: tuple[int, ...]) -> tuple[int, ...]:
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], dtype=np.float64)
    pts = corners @ flat_to_scan.T
    x0 = max(0, int(np.floor(pts[:, 0].min())) - LINE_MARGIN)
    y0 = max(0, int(np.floor(pts[:, 1].min())) - LINE_MARGIN)
    x1 = min(shape[1], int(np.ceil(pts[:, 0].max())) + LINE_MARGIN)
    y1 = min(shape[0], int(np.ceil(pts[:, 1].max())) + LINE_MARGIN)
    return x0, y0, x1, y1


def page_samples(page_id: str, image: np.ndarray, truth: dict, book_type: str) -> list[FieldSample]:
    gray = to_gray(image)
    affine = np.asarray(truth["flat_to_scan"], dtype=np.float64)
    types = {c.key: c.field_type for c in get_book_type(book_type).columns}
    samples = []
    for record in truth["records"]:
        for key, field in record["fields"].items():
            lines = []
            for box in field["text_boxes"]:
                x0, y0, x1, y1 = _flat_box_to_image(box, affine, gray.shape)
                if x1 - x0 > 2 and y1 - y0 > 2:
                    lines.append(np.ascontiguousarray(gray[y0:y1, x0:x1]))
            cell = CellImage(key, Box(0, 0, 0, 0), lines, is_empty=not lines)
            ft = types[key]
            samples.append(FieldSample(page_id, key, ft, field["value"], normalize(ft, field["value"]), cell))
    return samples


def synthetic_pages(seed: int, pages: int, book_types: tuple[str, ...] = BOOK_TYPES) -> Iterator[list[FieldSample]]:
    """Field samples page by page, cycling through the book types."""
    rng = random.Random(seed)
    options = PageOptions(skew_deg=0.0, rotate=0, border=False)
    for index in range(pages):
        book_type = book_types[index % len(book_types)]
        image, truth = render_page(book_type, random.Random(rng.getrandbits(64)), options,
                                   first_registration_no=rng.randint(1, 400), year=rng.randint(1975, 2015))
        yield page_samples(f"{seed}:{index}:{book_type}", image, truth, book_type)


def crop_preview(sample: FieldSample) -> np.ndarray:
    """All lines of a sample stacked (for eyeballing failures)."""
    width = max(line.shape[1] for line in sample.cell.lines)
    padded = [cv2.copyMakeBorder(ln, 2, 2, 0, width - ln.shape[1], cv2.BORDER_CONSTANT, value=255)
              for ln in sample.cell.lines]
    return np.vstack(padded)
