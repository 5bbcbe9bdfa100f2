"""Batch ingest: store uploaded pages once, run the page pipeline, persist records.

Resumable and exactly-once per page: a page's records, fields, audit steps and its `done`
status are written in one transaction, so a process killed at any moment leaves each page
either untouched (redone on the next run) or complete (skipped on the next run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import FieldValue, Page, PageStatus, Record, User
from ocr.engines.base import Recognizer
from ocr.loading import ImageLoadError, InputFile, LoadedImage, load_images
from ocr.pipeline import PageResult, process_page
from ocr.types import LedgerLayout
from workbench.audit import record_event, record_step
from workbench.book_types import get_book_type
from workbench.books import BookIdentity, get_book, get_or_create_book
from workbench.db import transaction
from workbench.storage import StorageError, sha256_bytes, store_derived_image, store_original

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (page name, pages finished, pages total)


@dataclass(frozen=True)
class IngestOptions:
    run_ocr: bool = True
    pdf_dpi: int = 200
    retry_failed: bool = False  # failed pages stay failed (and visible) unless asked
    model_version: str | None = None


@dataclass
class IngestReport:
    book_id: int
    pages_added: int = 0
    pages_already_present: int = 0
    pages_done: int = 0
    pages_failed: int = 0
    records_created: int = 0
    errors: list[str] = field(default_factory=list)  # English, one per failed file/page


def ingest_files(
    factory: sessionmaker[Session],
    data_dir: Path,
    files: list[InputFile],
    *,
    identity: BookIdentity | None = None,
    book_id: int | None = None,
    options: IngestOptions = IngestOptions(),
    recognizer: Recognizer | None = None,
    actor: User | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Add `files` to a book (by identity or id) and process every page not yet done."""
    with transaction(factory) as session:
        if book_id is None:
            if identity is None:
                raise ValueError("ingest needs a book identity or a book id")
            book_id = get_or_create_book(session, identity, actor).id
        book_type = get_book(session, book_id).book_type
    layout = get_book_type(book_type).layout
    report = IngestReport(book_id=book_id)
    total = len(files)
    for number, input_file in enumerate(files, start=1):
        frames = _register_file(factory, data_dir, book_id, input_file, options, actor, report)
        for page_id, loaded in frames:
            _process_and_store(factory, data_dir, page_id, loaded.image, layout, recognizer, options, report)
        if progress:
            progress(input_file.name, number, total)
    # Pages left queued or half-done by an earlier run that died (or retried failures).
    for page_id in _pending_page_ids(factory, book_id, options.retry_failed):
        image = _reload_frame(factory, data_dir, page_id, options, report)
        if image is not None:
            _process_and_store(factory, data_dir, page_id, image, layout, recognizer, options, report)
    return report


def _register_file(
    factory: sessionmaker[Session],
    data_dir: Path,
    book_id: int,
    input_file: InputFile,
    options: IngestOptions,
    actor: User | None,
    report: IngestReport,
) -> list[tuple[int, LoadedImage]]:
    """Store the file once and create its queued pages; returns the new (page id, frame) pairs."""
    try:
        data = input_file.read_bytes()
    except ImageLoadError as exc:
        report.errors.append(str(exc))
        report.pages_failed += 1
        return []
    digest = sha256_bytes(data)
    display_name = Path(input_file.name).name
    with transaction(factory) as session:
        if session.scalar(select(Page.id).where(Page.book_id == book_id, Page.sha256 == digest).limit(1)):
            report.pages_already_present += 1
            return []
    load_error: str | None = None
    frames: list[LoadedImage] = []
    try:
        frames = load_images(data, display_name, pdf_dpi=options.pdf_dpi)
    except ImageLoadError as exc:
        load_error = str(exc)
    try:
        stored = store_original(data_dir, data, display_name)
    except StorageError as exc:
        report.errors.append(str(exc))
        report.pages_failed += 1
        return []
    created: list[tuple[int, LoadedImage]] = []
    with transaction(factory) as session:
        last_index = session.scalar(select(func.max(Page.page_index)).where(Page.book_id == book_id))
        next_index = (last_index or 0) + 1
        if load_error is not None:
            # Keep a failed page so the contractor sees the bad file; the rest of the book goes on.
            page = Page(
                book_id=book_id, original_name=display_name, sha256=digest, frame_index=0,
                image_path=stored.relative_path, page_index=next_index,
                status=PageStatus.FAILED, error=load_error,
            )
            session.add(page)
            session.flush()
            record_event(session, actor=actor, entity_type="page", entity_id=page.id, action="upload_failed",
                         new={"file": display_name, "error": load_error})
            report.errors.append(load_error)
            report.pages_failed += 1
            log.warning("Page file %s failed to load: %s", display_name, load_error)
            return []
        for offset, loaded in enumerate(frames):
            page = Page(
                book_id=book_id, original_name=display_name, sha256=digest, frame_index=loaded.frame_index,
                image_path=stored.relative_path, page_index=next_index + offset, status=PageStatus.QUEUED,
            )
            session.add(page)
            session.flush()
            record_event(session, actor=actor, entity_type="page", entity_id=page.id, action="upload",
                         new={"file": display_name, "frame": loaded.frame_index, "sha256": digest})
            created.append((page.id, loaded))
    report.pages_added += len(created)
    return created


def _pending_page_ids(factory: sessionmaker[Session], book_id: int, retry_failed: bool) -> list[int]:
    statuses = [PageStatus.QUEUED, PageStatus.PROCESSING] + ([PageStatus.FAILED] if retry_failed else [])
    with factory() as session:
        return list(
            session.scalars(
                select(Page.id)
                .where(Page.book_id == book_id, Page.status.in_(statuses), Page.deleted.is_(False))
                .order_by(Page.page_index)
            )
        )


def _reload_frame(
    factory: sessionmaker[Session], data_dir: Path, page_id: int, options: IngestOptions, report: IngestReport
) -> np.ndarray | None:
    with factory() as session:
        page = session.get(Page, page_id)
        assert page is not None
        path, name, frame_index = data_dir / page.image_path, page.original_name, page.frame_index
    try:
        frames = load_images(path, name, pdf_dpi=options.pdf_dpi)
        return frames[frame_index].image
    except (ImageLoadError, IndexError) as exc:
        _mark_failed(factory, page_id, f"{name}: stored original cannot be re-read ({exc})", report)
        return None


def _mark_failed(factory: sessionmaker[Session], page_id: int, error: str, report: IngestReport) -> None:
    with transaction(factory) as session:
        page = session.get(Page, page_id)
        assert page is not None
        page.status = PageStatus.FAILED
        page.error = error
        record_event(session, actor=None, entity_type="page", entity_id=page_id, action="processing_failed",
                     new={"error": error})
    report.errors.append(error)
    report.pages_failed += 1
    log.warning("Page %s failed: %s", page_id, error)


def _process_and_store(
    factory: sessionmaker[Session],
    data_dir: Path,
    page_id: int,
    image: np.ndarray,
    layout: LedgerLayout,
    recognizer: Recognizer | None,
    options: IngestOptions,
    report: IngestReport,
) -> None:
    with transaction(factory) as session:
        page = session.get(Page, page_id)
        assert page is not None
        page.status = PageStatus.PROCESSING
        sha, frame_index, name = page.sha256, page.frame_index, page.original_name
    try:
        result = process_page(image, layout, recognizer if options.run_ocr else None)
        deskewed_path = store_derived_image(data_dir, sha, frame_index, "deskewed", result.analysis.deskewed)
    except StorageError as exc:
        _mark_failed(factory, page_id, str(exc), report)
        return
    except Exception as exc:  # noqa: BLE001 — one bad page must not stop the book
        log.exception("Pipeline failed on page %s (%s)", page_id, name)
        _mark_failed(factory, page_id, f"{name}: page pipeline failed ({type(exc).__name__}: {exc})", report)
        return
    report.records_created += save_page_result(factory, page_id, result, deskewed_path, options.model_version)
    report.pages_done += 1


def save_page_result(
    factory: sessionmaker[Session],
    page_id: int,
    result: PageResult,
    deskewed_path: str,
    model_version: str | None = None,
) -> int:
    """Replace the page's machine records with `result` and mark it done, atomically."""
    analysis = result.analysis
    with transaction(factory) as session:
        page = session.get(Page, page_id)
        assert page is not None
        # Leftovers of an interrupted earlier run are replaced, never duplicated.
        session.execute(delete(Record).where(Record.page_id == page_id))
        for region, proposals in zip(analysis.records, result.proposals, strict=True):
            confidences = [p.confidence for p in proposals.values()]
            record = Record(
                book_id=page.book_id, page_id=page_id, row_index=region.row_index,
                bbox=region.box.as_list(), confidence=min(confidences) if confidences else 0.0,
            )
            cell_boxes = {cell.key: cell.box.as_list() for cell in region.cells}
            record.fields = [
                FieldValue(
                    key=key, position=position, proposed_value=proposal.value,
                    confidence=float(min(max(proposal.confidence, 0.0), 1.0)),
                    char_confidences=[[c.char, round(c.confidence, 4), c.x0, c.x1] for c in proposal.chars],
                    alternatives=list(proposal.alternatives), messages=list(proposal.messages),
                    bbox=cell_boxes.get(key), engine=proposal.engine or None,
                )
                for position, (key, proposal) in enumerate(proposals.items())
            ]
            session.add(record)
        session.flush()
        for step in result.steps:
            record_step(session, "page", page_id, step)
        height, width = analysis.deskewed.shape[:2]
        page.status = PageStatus.DONE
        page.error = None
        page.deskew_angle = float(analysis.deskew_angle)
        page.deskewed_path = deskewed_path
        page.width, page.height = int(width), int(height)
        page.warnings = list(analysis.warnings)
        page.timings = {s.name: round(s.seconds, 4) for s in result.steps}
        page.model_version = model_version
        page.processed_at = datetime.now(UTC)
    return len(analysis.records)
