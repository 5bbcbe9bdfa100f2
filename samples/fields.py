"""Labelled field cells cut from synthetic ledger pages (samples.render) for benchmarks and tests.

Two ways to cut the cells (``CELL_SOURCES``):
  oracle    pages rendered level (no skew, no 90-degree turn), each written line cut at its
            true ink box plus a small white margin: isolates recognition from page analysis.
  pipeline  pages rendered like the bundled sample books (skew, scanner bed, JPEG), decoded and
            cut by the page pipeline ingest runs (``ocr.pipeline.process_page``); its records are
            matched to the truth rows (``samples.page_scores.match_truth_rows``). What ingest really
            reads: rulings nearby, wrapped lines split by the pipeline, cells it found empty, and
            truth rows it missed (their fields come with an empty cell, ``matched=False``).
Both draw the same pages (same written values) for a seed. Values are the truth as written; the
expected proposal is ``normalize(field_type, truth)``.
``family_pipeline_pages`` cuts pipeline cells from the pages of generator families
(samples/families.py), rendered exactly as ``bench.robustness`` renders them (``render_family_page``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ocr.fields.normalize import normalize
from ocr.image.loading import load_images
from ocr.page_warnings import warning_codes
from ocr.pipeline import process_page
from ocr.read.engines.base import to_gray
from ocr.types import Box, CellImage
from samples.build_committed import OPTIONS as SAMPLE_BOOK_OPTIONS
from samples.families import Family
from samples.page_scores import BOOK_TYPES, match_truth_rows
from samples.render import PageOptions, render_page_encoded
from workbench.book_types import get_book_type

LINE_MARGIN = 4  # px, as the page pipeline's CellSettings.padding


@dataclass
class FieldSample:
    page_id: str
    key: str
    field_type: str
    truth: str  # text as written
    expected: str  # normalize(field_type, truth)
    cell: CellImage
    matched: bool = True  # False: the page pipeline found no record for this truth row
    record: int = 0  # the truth record's row on its page (page-context checks need it)
    page_warnings: tuple[str, ...] = ()  # the pipeline's QA codes for the page (pipeline cells only)


@dataclass
class RenderedPage:
    page_id: str
    book_type: str
    image: np.ndarray  # BGR, as decoded after the JPEG round trip
    truth: dict
    data: bytes | None  # the JPEG file (None when options.jpeg_quality >= 100)


def _field_sample(page_id: str, key: str, field_type: str, truth: str, cell: CellImage,
                  matched: bool = True, record: int = 0, page_warnings: tuple[str, ...] = ()) -> FieldSample:
    return FieldSample(page_id, key, field_type, truth, normalize(field_type, truth), cell, matched, record,
                       page_warnings)


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
    for index, record in enumerate(truth["records"]):
        for key, field in record["fields"].items():
            lines = []
            for box in field["text_boxes"]:
                x0, y0, x1, y1 = _flat_box_to_image(box, affine, gray.shape)
                if x1 - x0 > 2 and y1 - y0 > 2:
                    lines.append(np.ascontiguousarray(gray[y0:y1, x0:x1]))
            cell = CellImage(key, Box(0, 0, 0, 0), lines, is_empty=not lines)
            samples.append(_field_sample(page_id, key, types[key], field["value"], cell, record=index))
    return samples


def pipeline_page_samples(page_id: str, image: np.ndarray, truth: dict, book_type: str) -> list[FieldSample]:
    """Every truth field of the page with the cell the page pipeline cut for it.

    Fields of a truth row the pipeline did not find get an empty cell (``matched=False``), so
    they are read as "" and count as misses.
    """
    layout = get_book_type(book_type).layout
    analysis = process_page(image, layout, reader=None).analysis  # ingest's segmentation
    matches = match_truth_rows(analysis, truth)
    types = {c.key: c.field_type for c in layout.columns}
    warnings = warning_codes(analysis.warnings)
    samples = []
    for t, record in enumerate(truth["records"]):
        cells = {c.key: c for c in analysis.records[matches[t]].cells} if t in matches else {}
        for key, field in record["fields"].items():
            cell = cells.get(key, CellImage(key, Box(0, 0, 0, 0)))
            samples.append(_field_sample(page_id, key, types[key], field["value"], cell, matched=key in cells,
                                         record=t, page_warnings=warnings))
    return samples


def rendered_pages(seed: int, pages: int, options: PageOptions,
                   book_types: tuple[str, ...] = BOOK_TYPES) -> Iterator[RenderedPage]:
    """Synthetic pages cycling through the book types.

    The written values depend only on the seed (scan defects are drawn after the writing), so
    oracle and pipeline samples of one seed hold the same fields.
    """
    rng = random.Random(seed)
    for index in range(pages):
        book_type = book_types[index % len(book_types)]
        image, truth, data = render_page_encoded(
            book_type, random.Random(rng.getrandbits(64)), options,
            first_registration_no=rng.randint(1, 400), year=rng.randint(1975, 2015))
        yield RenderedPage(f"{seed}:{index}:{book_type}", book_type, image, truth, data)


def synthetic_pages(seed: int, pages: int, book_types: tuple[str, ...] = BOOK_TYPES) -> Iterator[list[FieldSample]]:
    """Field samples page by page with oracle line boxes."""
    options = PageOptions(skew_deg=0.0, rotate=0, border=False)
    for page in rendered_pages(seed, pages, options, book_types):
        yield page_samples(page.page_id, page.image, page.truth, page.book_type)


def pipeline_pages(seed: int, pages: int, book_types: tuple[str, ...] = BOOK_TYPES,
                   options: PageOptions = SAMPLE_BOOK_OPTIONS) -> Iterator[list[FieldSample]]:
    """Field samples page by page as ingest sees them: the JPEG scan decoded and cut by the pipeline.

    Default options are those of the bundled sample books (skew within +-3 deg, scanner bed,
    stains, noise, JPEG q62).
    """
    for page in rendered_pages(seed, pages, options, book_types):
        image = page.image if page.data is None else load_images(page.data, f"{page.book_type}.jpg")[0].image
        yield pipeline_page_samples(page.page_id, image, page.truth, page.book_type)


@dataclass
class FamilyPage:
    """One rendered page of a generator family (a JPEG scan) and its truth."""

    page_id: str
    book_type: str
    truth: dict
    data: bytes


def render_family_page(f: Family, index: int, seed: int) -> FamilyPage:
    """Page ``index`` of family ``f`` for ``seed``: book types in turn, the family's options. Its
    random draws depend only on (seed, family, index), so a page is the same in every benchmark."""
    rng = random.Random(f"{seed}:{f.name}:{index}")
    book_type = BOOK_TYPES[index % len(BOOK_TYPES)]
    options = f.options(rng)
    _, truth, data = render_page_encoded(book_type, rng, options, first_registration_no=rng.randint(1, 400))
    assert data is not None  # families write JPEG scans
    return FamilyPage(f"{seed}:{f.name}:{index}:{book_type}", book_type, truth, data)


def family_pipeline_pages(families: tuple[Family, ...], seed: int, pages: int) -> Iterator[list[FieldSample]]:
    """Field samples page by page as ingest cuts them, ``pages`` pages of each family in turn."""
    for f in families:
        for index in range(pages):
            page = render_family_page(f, index, seed)
            image = load_images(page.data, f"{f.name}_{index}.jpg")[0].image
            yield pipeline_page_samples(page.page_id, image, page.truth, page.book_type)


CELL_SOURCES = {"oracle": synthetic_pages, "pipeline": pipeline_pages}


def field_pages(cells: str, seed: int, pages: int) -> Iterator[list[FieldSample]]:
    """Field samples page by page with the cells cut as `cells` says (a CELL_SOURCES key)."""
    if cells not in CELL_SOURCES:
        raise ValueError(f"cells must be one of {sorted(CELL_SOURCES)}, not {cells!r}")
    return CELL_SOURCES[cells](seed, pages)


def scored_fields(samples: list[FieldSample]) -> list[FieldSample]:
    """The fields a benchmark scores: every written field, and every cell with ink where nothing
    is written (ingest proposes a value there). Nothing written and nothing found is left out:
    trivially right, it would only inflate the figures.
    """
    return [s for s in samples if s.expected or not s.cell.is_empty]


def crop_preview(sample: FieldSample) -> np.ndarray:
    """All lines of a sample stacked (for eyeballing failures)."""
    width = max(line.shape[1] for line in sample.cell.lines)
    padded = [cv2.copyMakeBorder(ln, 2, 2, 0, width - ln.shape[1], cv2.BORDER_CONSTANT, value=255)
              for ln in sample.cell.lines]
    return np.vstack(padded)
