"""Labelled lines from the synthetic sample pages (``samples/``), cut like real cells.

A page is warped back to its flat coordinates with the truth's ``flat_to_scan`` (a perfect
deskew), then cut by the same cell cutter the database set uses, at the truth's cell boxes.
Multi-line cells get the words split in proportion to the written line widths. Synthetic
lines test the loop and can be mixed into real sets; they are not real handwriting.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocr.types import Box
from workbench.book_types import get_book_type
from workbench.training.cell_lines import StoredCell, cut_stored_cells
from workbench.training.dataset import LabelledLine

SAMPLE_BOOKS = Path(__file__).resolve().parents[2] / "samples" / "books"


def flat_page(image: np.ndarray, truth_page: dict[str, Any]) -> np.ndarray:
    """The scanned page resampled into the flat page coordinates the truth boxes use."""
    matrix = np.asarray(truth_page["flat_to_scan"], dtype=np.float64)
    size = (int(truth_page["flat_width"]), int(truth_page["flat_height"]))
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def split_by_widths(text: str, widths: list[int]) -> list[str] | None:
    """Split words into len(widths) lines whose lengths follow the written line widths."""
    words = text.split()
    if len(widths) == 1:
        return [text]
    if len(words) < len(widths):
        return None
    total_chars = len(text)
    total_width = float(sum(widths))
    parts: list[str] = []
    start = 0
    for i in range(len(widths) - 1):
        target = sum(widths[: i + 1]) / total_width * total_chars
        remaining_lines = len(widths) - i - 1
        best_end, best_gap = start + 1, float("inf")
        for end in range(start + 1, len(words) - remaining_lines + 1):
            gap = abs(len(" ".join(words[:end])) - target)
            if gap < best_gap:
                best_end, best_gap = end, gap
        parts.append(" ".join(words[start:best_end]))
        start = best_end
    parts.append(" ".join(words[start:]))
    return parts


def page_lines(image: np.ndarray, truth_page: dict[str, Any], book_type: str, page_key: str,
               year: int | None = None, unit_name: str = "") -> list[LabelledLine]:
    """Every non-empty cell's lines with their text, for one sample page."""
    if truth_page.get("blank") or not truth_page.get("records"):
        return []
    flat = flat_page(image, truth_page)
    layout = get_book_type(book_type).layout
    column_boxes = truth_page["column_boxes"]
    cells: list[StoredCell] = []
    texts: list[tuple[str, list[list[int]], str]] = []
    for record in truth_page["records"]:
        _, y, _, h = record["box"]
        for column, spec in zip(column_boxes, layout.columns, strict=True):
            truth = record["fields"][spec.key]
            if not truth["value"]:
                continue
            cells.append(StoredCell(spec.key, Box(column[0], y, column[2], h), float(h)))
            texts.append((truth["value"], truth["text_boxes"], spec.field_type))
    cut = cut_stored_cells(flat, layout, cells)
    if cut is None:
        return []
    lines = []
    for cell, (value, boxes, field_type) in zip(cut, texts, strict=True):
        if cell.is_empty or len(cell.lines) != len(boxes):
            continue  # the cutter saw a different number of lines than were written
        parts = split_by_widths(value, [b[2] for b in sorted(boxes, key=lambda b: b[1])])
        if parts is None:
            continue
        for index, (line, text) in enumerate(zip(cell.lines, parts, strict=True)):
            lines.append(LabelledLine(image=line, text=text, page_key=page_key, source="synthetic",
                                      field_type=field_type, field_key=cell.key, year=year,
                                      unit_name=unit_name, line_index=index))
    return lines


def sample_book_lines(folder: Path) -> list[LabelledLine]:
    """Lines of a generated book folder (page images + truth.json)."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    book = truth["book"]
    lines: list[LabelledLine] = []
    for page in truth["pages"]:
        image = cv2.imread(str(folder / page["file"]), cv2.IMREAD_COLOR)
        if image is None:
            continue
        key = f"sample:{folder.name}/{page['file']}"
        lines.extend(page_lines(image, page, book["book_type"], key, book.get("year"), book.get("unit", "")))
    return lines


def committed_sample_lines(root: Path = SAMPLE_BOOKS) -> list[LabelledLine]:
    """Lines of all committed sample books (``samples/books/*``)."""
    return [line for folder in sorted(p for p in root.iterdir() if (p / "truth.json").is_file())
            for line in sample_book_lines(folder)]


def rendered_lines(count: int, seed: int = 0, book_types: tuple[str, ...] = ("khai_sinh", "khai_tu", "ket_hon"),
                   ) -> list[LabelledLine]:
    """Render fresh sample pages until ``count`` lines are collected (each page = new writers)."""
    from samples import PageOptions, render_page

    rng = random.Random(seed)
    lines: list[LabelledLine] = []
    page_number = 0
    while len(lines) < count:
        book_type = book_types[page_number % len(book_types)]
        page_seed = rng.getrandbits(32)
        image, truth = render_page(book_type, page_seed, PageOptions())
        lines.extend(page_lines(image, truth, book_type, f"rendered:{seed}:{page_number}:{book_type}"))
        page_number += 1
    return lines[:count]
