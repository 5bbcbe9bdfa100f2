"""Cached display images for the pages (pure rendering in `imaging`; caching here).

The decoded page arrays (12 MB for a scan) are kept as shared, read-only objects (`st.cache_resource`):
`st.cache_data` would pickle and unpickle the whole array on every call, i.e. on every script run of
the verification page. The verification page's image is kept as its JPEG bytes, encoded once per
(page, contrast), so `st.image` sends them as they are instead of re-encoding an array each run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from workbench.storage import StorageError, read_image
from workbench.ui import imaging

Box = tuple[int, int, int, int]
PAGE_VIEW_WIDTH = 1400  # enough for a wide column; keeps each rerun's transfer small
CROP_WIDTH = 900


@st.cache_resource(max_entries=8, show_spinner=False)
def _page(data_dir: str, image_path: str) -> np.ndarray:
    """Shared by every session: read-only, so no caller can change another's page."""
    page = read_image(Path(data_dir), image_path)
    page.setflags(write=False)
    return page


def load_page(data_dir: Path, image_path: str) -> np.ndarray | None:
    try:
        return _page(str(data_dir), image_path)
    except StorageError:
        return None


@st.cache_data(max_entries=32, show_spinner=False)
def page_view_rgb(data_dir: str, image_path: str, record_box: Box, zoom: float, contrast: int) -> np.ndarray:
    page = _page(data_dir, image_path)
    view = imaging.page_view(page, list(record_box), imaging.ViewSettings(zoom=zoom, contrast=contrast))
    return imaging.to_rgb(imaging.fit_width(view, PAGE_VIEW_WIDTH))


@st.cache_resource(max_entries=32, show_spinner=False)
def crop_urls(data_dir: str, image_path: str, boxes: tuple[Box | None, ...], contrast: int) -> tuple[str | None, ...]:
    """One data: URL per field cell (None where the cell has no box)."""
    page = _page(data_dir, image_path)
    urls: list[str | None] = []
    for box in boxes:
        crop = imaging.cell_crop(page, list(box) if box else None, contrast)
        urls.append(imaging.jpeg_data_url(imaging.fit_width(crop, CROP_WIDTH)) if crop is not None else None)
    return tuple(urls)


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnail_rgb(data_dir: str, image_path: str, width: int = 220) -> np.ndarray | None:
    try:
        return imaging.thumbnail(_page(data_dir, image_path), width)
    except StorageError:
        return None


VIEWER_WIDTH = 2000  # the verification page zooms in the browser: 3x over a ~640 px column stays sharp


@st.cache_resource(max_entries=16, show_spinner=False)
def page_plain_jpeg(data_dir: str, image_path: str, contrast: int, quality: int = 85) -> bytes:
    """The whole page with only the contrast applied, as JPEG bytes encoded once (st.image sends bytes as
    they are): the record and cell boxes are drawn by the browser, so every record of a page shows the
    same image (one download, cached by the browser)."""
    return imaging.jpeg_bytes(imaging.fit_width(imaging.enhance_contrast(_page(data_dir, image_path), contrast),
                                                VIEWER_WIDTH), quality)
