"""Labelled lines as a folder: PNG files plus ``labels.tsv`` (``filename<TAB>text``).

Sites and contractors may hold labelled lines of their own; this is the exchange format.
An optional third column names the page a line comes from (keeps the split by page); without
it every file is its own page.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from workbench.training.dataset import LabelledLine

LABELS_FILE = "labels.tsv"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class FolderError(ValueError):
    pass


def export_folder(lines: list[LabelledLine], directory: Path, prefix: str = "line") -> Path:
    """Write every line as PNG and the labels file; returns the labels path."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, line in enumerate(lines, start=1):
        name = f"{prefix}_{index:06d}.png"
        if not cv2.imwrite(str(directory / name), line.image):
            raise FolderError(f"cannot write {directory / name}")
        rows.append((name, _clean_label(line.text), line.page_key))
    labels = directory / LABELS_FILE
    with labels.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n")
        writer.writerows(rows)
    return labels


def _clean_label(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def import_folder(directory: Path) -> list[LabelledLine]:
    """Read ``labels.tsv`` and its images; a missing or unreadable image is an error, not a skip."""
    labels = directory / LABELS_FILE
    if not labels.is_file():
        raise FolderError(f"{directory}: no {LABELS_FILE} (expected 'filename<TAB>text' per line)")
    lines: list[LabelledLine] = []
    with labels.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
        for number, row in enumerate(reader, start=1):
            if not row or not row[0].strip():
                continue
            if len(row) < 2:
                raise FolderError(f"{labels}:{number}: expected 'filename<TAB>text'")
            name, text = row[0].strip(), _clean_label(row[1])
            if not text:
                continue
            image = _read_gray(directory / name)
            page = row[2].strip() if len(row) > 2 and row[2].strip() else f"folder:{name}"
            lines.append(LabelledLine(image=image, text=text, page_key=page, source="folder"))
    if not lines:
        raise FolderError(f"{labels}: no labelled lines")
    return lines


def _read_gray(path: Path) -> np.ndarray:
    if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
        raise FolderError(f"{path}: not an image file")
    image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FolderError(f"{path}: cannot decode image")
    return image
