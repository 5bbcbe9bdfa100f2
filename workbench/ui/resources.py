"""Process-wide singletons for the Streamlit server (one engine, one recognizer)."""

from __future__ import annotations

import streamlit as st

from ocr.engines.base import Recognizer
from workbench.config import Settings, load_settings
from workbench.context import Workbench, open_workbench


@st.cache_resource(show_spinner=False)
def _workbench_for(settings: Settings) -> Workbench:
    # Keyed by the settings, so tests pointing WORKBENCH_DB elsewhere get their own engine.
    return open_workbench(settings)


def get_workbench() -> Workbench:
    return _workbench_for(load_settings())


@st.cache_resource(show_spinner="Đang nạp mô hình nhận dạng chữ…")
def get_recognizer(threads: int = 2) -> Recognizer:
    from ocr.engines.asternet import get_asternet  # heavy import only when a page needs OCR

    return get_asternet(threads)
