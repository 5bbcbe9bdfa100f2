"""Process-wide singletons for the Streamlit server (one engine, one recognizer)."""

from __future__ import annotations

import streamlit as st

from ocr.read.engines.base import Recognizer
from workbench.config import Settings, load_settings
from workbench.context import Workbench, open_workbench


@st.cache_resource(show_spinner=False)
def _workbench_for(settings: Settings) -> Workbench:
    # Keyed by the settings, so tests pointing WORKBENCH_DB elsewhere get their own engine.
    return open_workbench(settings)


def get_workbench() -> Workbench:
    return _workbench_for(load_settings())


def get_recognizer(threads: int = 2) -> Recognizer:
    """The ACTIVE registered model's engine (cached per model file by the registry), so a model
    activated on the registry page is used by the next processing job without a restart."""
    from workbench.training.model_registry import recognizer_for  # heavy import only when a page needs OCR

    return recognizer_for(load_settings().data_dir, None, threads)
