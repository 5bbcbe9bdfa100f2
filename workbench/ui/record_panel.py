"""The page beside the fields, for screens other than the verification page (the supervisor's blind
QA re-check): the same page view (record outlined, zoom, contrast) and the same cell crops as
app_pages/verify.py, from workbench.ui.rendering and workbench.ui.imaging, shown as plain images
(the verification page swaps its one large crop with a keyboard helper instead).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from workbench.ui import imaging
from workbench.ui.rendering import Box, load_page, page_view_rgb

FIELD_CROP_WIDTH = 420  # px: a name or a place stays legible in the narrow column beside its input
ZOOM_OPTIONS = (1.0, 1.5, 2.0, 3.0)


@st.cache_data(max_entries=32, show_spinner=False)
def field_crops_rgb(data_dir: str, image_path: str, boxes: tuple[Box | None, ...], contrast: int,
                    width: int = FIELD_CROP_WIDTH) -> tuple[np.ndarray | None, ...]:
    """One RGB crop per field cell (None where the cell has no box or the page cannot be read)."""
    page = load_page(Path(data_dir), image_path)
    if page is None:
        return tuple(None for _ in boxes)
    crops = (imaging.cell_crop(page, list(box) if box else None, contrast) for box in boxes)
    return tuple(imaging.to_rgb(imaging.fit_width(crop, width)) if crop is not None else None for crop in crops)


def page_image(data_dir: Path, image_path: str, record_box: Box, zoom: float, contrast: int) -> np.ndarray | None:
    """The page with the record outlined (as on the verification page); None when it cannot be read."""
    if load_page(data_dir, image_path) is None:
        return None
    return page_view_rgb(str(data_dir), image_path, record_box, zoom, contrast)
