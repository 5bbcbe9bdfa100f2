"""The whole pure page pipeline: page image -> segmented records -> field proposals.

This is what ingest workers run (in-process, a process pool or a Dask worker); it touches
neither the database nor the disk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ocr.engines.base import Recognizer
from ocr.page import PipelineSettings, analyze_page
from ocr.recognition import propose_page
from ocr.types import FieldProposal, LedgerLayout, PageAnalysis, ProcessingStep


@dataclass
class PageResult:
    analysis: PageAnalysis
    # one dict per analysis.records entry, keyed by template column key
    proposals: list[dict[str, FieldProposal]] = field(default_factory=list)

    @property
    def steps(self) -> list[ProcessingStep]:
        return self.analysis.steps


def empty_proposals(layout: LedgerLayout, count: int) -> list[dict[str, FieldProposal]]:
    """Proposals for pages processed without recognition: officials key every field."""
    def blank() -> dict[str, FieldProposal]:
        return {c.key: FieldProposal(key=c.key, value="", confidence=0.0) for c in layout.columns}

    return [blank() for _ in range(count)]


def process_page(
    image: np.ndarray,
    layout: LedgerLayout,
    recognizer: Recognizer | None,
    settings: PipelineSettings | None = None,
) -> PageResult:
    analysis = analyze_page(image, layout, settings or PipelineSettings())
    if recognizer is None:
        return PageResult(analysis, empty_proposals(layout, len(analysis.records)))
    started = time.perf_counter()
    proposals = propose_page(analysis, layout, recognizer)
    analysis.steps.append(
        ProcessingStep(
            name="recognition",
            settings={"engine": getattr(recognizer, "name", type(recognizer).__name__)},
            seconds=time.perf_counter() - started,
            result={"fields": sum(len(p) for p in proposals)},
        )
    )
    return PageResult(analysis, proposals)
