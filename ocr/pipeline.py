"""The whole pure page pipeline: page image -> segmented records -> field proposals.

This is what ingest workers run (in-process, in a process pool or on a Dask worker); it
touches neither the database nor the data directory. `run_page_task` takes and returns
small picklable dataclasses so it can travel to another process or machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ocr.engines.base import Recognizer
from ocr.loading import ImageLoadError, load_images
from ocr.page import PipelineSettings, analyze_page
from ocr.recognition import propose_page
from ocr.types import Box, FieldProposal, LedgerLayout, PageAnalysis, ProcessingStep, RecordRegion

DESKEWED_JPEG_QUALITY = 90


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


@dataclass(frozen=True)
class PageTask:
    """One stored page to process: the original file's bytes and which frame of it."""

    page_id: int
    data: bytes
    name: str
    frame_index: int
    layout: LedgerLayout
    run_ocr: bool = True
    pdf_dpi: int = 200
    ocr_threads: int = 2


@dataclass
class PageOutcome:
    """What a worker sends back: everything the coordinator persists, no pixel arrays."""

    page_id: int
    error: str | None = None
    deskew_angle: float = 0.0
    width: int = 0
    height: int = 0
    deskewed_jpeg: bytes = b""
    header_box: Box | None = None
    records: list[RecordRegion] = field(default_factory=list)  # cells without line images
    proposals: list[dict[str, FieldProposal]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    steps: list[ProcessingStep] = field(default_factory=list)


def outcome_from_result(page_id: int, result: PageResult) -> PageOutcome:
    analysis = result.analysis
    ok, encoded = cv2.imencode(".jpg", analysis.deskewed, [cv2.IMWRITE_JPEG_QUALITY, DESKEWED_JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode the deskewed page as JPEG")
    height, width = analysis.deskewed.shape[:2]
    slim_records = [
        replace(region, cells=[replace(cell, lines=[]) for cell in region.cells]) for region in analysis.records
    ]
    return PageOutcome(
        page_id=page_id,
        deskew_angle=float(analysis.deskew_angle),
        width=int(width),
        height=int(height),
        deskewed_jpeg=encoded.tobytes(),
        header_box=analysis.header_box,
        records=slim_records,
        proposals=result.proposals,
        warnings=list(analysis.warnings),
        steps=list(analysis.steps),
    )


def run_page_task(task: PageTask, recognizer: Recognizer | None = None) -> PageOutcome:
    """Decode, segment and recognise one page; failures come back as `error`, never raise.

    Without an explicit recognizer, the worker process's shared AsterNet session is used.
    """
    try:
        frames = load_images(task.data, task.name, pdf_dpi=task.pdf_dpi)
        if task.frame_index >= len(frames):
            return PageOutcome(task.page_id, error=f"{task.name}: frame {task.frame_index} no longer exists")
        if not task.run_ocr:
            recognizer = None
        elif recognizer is None:
            from ocr.engines.asternet import get_asternet  # loaded once per worker process

            recognizer = get_asternet(task.ocr_threads)
        result = process_page(frames[task.frame_index].image, task.layout, recognizer)
        return outcome_from_result(task.page_id, result)
    except ImageLoadError as exc:
        return PageOutcome(task.page_id, error=str(exc))
    except Exception as exc:  # noqa: BLE001 — one bad page must not stop the book
        return PageOutcome(task.page_id, error=f"{task.name}: page pipeline failed ({type(exc).__name__}: {exc})")
