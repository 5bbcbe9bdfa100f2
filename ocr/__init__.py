"""Pure image -> proposal pipeline. Never imports models/, workbench/ or streamlit.

The stages, each a subpackage, and the small API this package exposes for them::

    page image ──> image/   QA, crop, deskew                       ┐
               ──> layout/  ledger grid, records, field cells      ┘ analyze_page -> PageAnalysis
                                                                      (cut_cells: one row's cells)
               ──> read/    text-line engine (Recognizer), CTC decoding  ┐
               ──> fields/, places/  field grammars, lexicons, gazetteer  │ propose(analysis, layout, Reader)
               ──> confidence       calibrated P(value exactly right)    ┘   -> FieldProposal per field

    process_page(image, layout, reader) = analyze_page + propose

A ``Reader`` (``build_reader``) is one recognition model as ingest uses it: engine, calibrator,
model version and the unit's confirmed words. The names below are imported lazily, so
``import ocr`` (or any ``ocr.<module>``) does not load OpenCV, onnxruntime or the lexicons.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocr.layout.cells import cut_cells
    from ocr.layout.page import PipelineSettings, analyze_page
    from ocr.pipeline import PageResult, process_page, propose
    from ocr.reader import ModelFiles, Reader, build_reader
    from ocr.types import CellImage, FieldProposal, LedgerLayout, PageAnalysis, RecordRegion

_HOMES = {
    "Reader": "ocr.reader",
    "ModelFiles": "ocr.reader",
    "build_reader": "ocr.reader",
    "analyze_page": "ocr.layout.page",
    "PipelineSettings": "ocr.layout.page",
    "cut_cells": "ocr.layout.cells",
    "propose": "ocr.pipeline",
    "process_page": "ocr.pipeline",
    "PageResult": "ocr.pipeline",
    "CellImage": "ocr.types",
    "FieldProposal": "ocr.types",
    "LedgerLayout": "ocr.types",
    "PageAnalysis": "ocr.types",
    "RecordRegion": "ocr.types",
}

__all__ = [
    "CellImage",
    "FieldProposal",
    "LedgerLayout",
    "ModelFiles",
    "PageAnalysis",
    "PageResult",
    "PipelineSettings",
    "Reader",
    "RecordRegion",
    "analyze_page",
    "build_reader",
    "cut_cells",
    "process_page",
    "propose",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ocr' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
