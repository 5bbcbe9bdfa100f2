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

from ocr.fields.local_lexicon import LocalLexicon
from ocr.image.loading import ImageLoadError, load_images
from ocr.image.page_qa import dhash, duplicate_of, phash
from ocr.layout.page import PipelineSettings, analyze_page
from ocr.page_warnings import PageWarning
from ocr.read.book_type_check import BookTypeCandidate, apply_book_type_check
from ocr.read.engines.ppocr_second import second_reader_name
from ocr.reader import ModelFiles, Reader, build_reader, calibrator_from_file
from ocr.recognition import page_depth_warning, propose_page
from ocr.types import Box, FieldProposal, LedgerLayout, PageAnalysis, ProcessingStep, RecordRegion

# ModelFiles and calibrator_from_file live in ocr.reader; they are still importable from here.
__all__ = ["ModelFiles", "PageOutcome", "PageResult", "PageTask", "calibrator_from_file", "empty_proposals",
           "process_page", "propose", "run_page_task"]

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
    reader: Reader | None,
    settings: PipelineSettings | None = None,
) -> PageResult:
    """Segment the page and propose every field with ``reader`` (None: blank proposals, no recognition)."""
    analysis = analyze_page(image, layout, settings or PipelineSettings())
    if reader is None:
        return PageResult(analysis, empty_proposals(layout, len(analysis.records)))
    return PageResult(analysis, propose(analysis, layout, reader))


def propose(analysis: PageAnalysis, layout: LedgerLayout, reader: Reader) -> list[dict[str, FieldProposal]]:
    """Propose every field of a segmented page, and record the recognition step on it."""
    started = time.perf_counter()
    proposals = propose_page(analysis, layout, reader.recognizer, reader.calibrator, reader.local)
    depth_warning = page_depth_warning(proposals)
    if depth_warning and depth_warning not in analysis.warnings:
        analysis.warnings.append(depth_warning)
    analysis.steps.append(
        ProcessingStep(
            name="recognition",
            # local_words: how many of the unit's confirmed words the decoder knew (0: shipped lexicons only);
            # second_reader: the second reader of dates, numbers and surnames (ocr.read.digit_check; "": none installed)
            settings={"engine": reader.engine,
                      "calibration": reader.calibrator.version,
                      "local_words": reader.local.size if reader.local else 0,
                      "second_reader": second_reader_name()},
            seconds=time.perf_counter() - started,
            result={"fields": sum(len(p) for p in proposals)},
        )
    )
    return proposals


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
    model: ModelFiles = ModelFiles()
    local: LocalLexicon | None = None  # words confirmed in the book's unit (extra lexicon words)
    # Every book type the page could be (the book's own included): checks it belongs to its book.
    book_types: tuple[BookTypeCandidate, ...] = ()


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
    warnings: list[PageWarning] = field(default_factory=list)
    steps: list[ProcessingStep] = field(default_factory=list)
    perceptual_hash: str = ""  # of the scanned frame, see page_hash()


def page_hash(image: np.ndarray) -> str:
    """dhash and phash of a scanned page, as 32 hex digits."""
    return f"{dhash(image):016x}{phash(image):016x}"


# Distinct ledger pages of one book were >= 10 bits apart on both hashes in the samples; a rescan
# of the same page 0-1 bits. Requiring both hashes to agree keeps look-alike pages apart.
DUPLICATE_MAX_BITS = 6


def duplicate_page(page_hash_hex: str, others: dict[str, str]) -> str | None:
    """Name of another page that is the same scan (both hashes within DUPLICATE_MAX_BITS), if any."""
    if not page_hash_hex:
        return None

    def halves(hex_digits: str) -> tuple[int, int]:
        return int(hex_digits[:16], 16), int(hex_digits[16:32], 16)

    mine_d, mine_p = halves(page_hash_hex)
    known = {name: halves(h) for name, h in others.items() if h}
    by_dhash = duplicate_of(mine_d, {n: d for n, (d, _) in known.items()}, DUPLICATE_MAX_BITS)
    if by_dhash is None:
        return None
    return by_dhash if duplicate_of(mine_p, {by_dhash: known[by_dhash][1]}, DUPLICATE_MAX_BITS) else None


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


def run_page_task(task: PageTask, reader: Reader | None = None) -> PageOutcome:
    """Decode, segment and recognise one page; failures come back as `error`, never raise.

    Without an explicit reader, the worker process builds one from ``task.model`` (its AsterNet
    session is shared by the process) with the unit's words ``task.local``.
    """
    try:
        frames = load_images(task.data, task.name, pdf_dpi=task.pdf_dpi)
        if task.frame_index >= len(frames):
            return PageOutcome(task.page_id, error=f"{task.name}: frame {task.frame_index} no longer exists")
        if not task.run_ocr:
            reader = None
        elif reader is None:
            reader = build_reader(task.model, threads=task.ocr_threads, local=task.local)
        image = frames[task.frame_index].image
        result = process_page(image, task.layout, reader)
        apply_book_type_check(result.analysis, task.layout.book_type, task.book_types,
                              reader.recognizer if reader else None)
        outcome = outcome_from_result(task.page_id, result)
        outcome.perceptual_hash = page_hash(image)
        return outcome
    except ImageLoadError as exc:
        return PageOutcome(task.page_id, error=str(exc))
    except Exception as exc:  # noqa: BLE001 — one bad page must not stop the book
        return PageOutcome(task.page_id, error=f"{task.name}: page pipeline failed ({type(exc).__name__}: {exc})")
