"""Page processing that outlives the browser tab: one background job (workbench.jobs) per book in this server.

The job only calls `workbench.intake.ingest.process_pending_pages`; every page's state is in the
database, so the contractor's status table (and a reload, or another browser) reads progress
from there, and a server restart loses nothing: queued pages are resumed with the same call.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ocr.read.engines.base import Recognizer
from workbench.intake.ingest import IngestOptions, IngestReport, process_pending_pages
from workbench.jobs import JobRegistry, Progress

log = logging.getLogger(__name__)

_registry: JobRegistry[int, None] = JobRegistry()  # owner: the database URL; job id: the book id; meta: the book id


def is_processing(db_url: str, book_id: int) -> bool:
    return _registry.is_running(db_url, str(book_id))


def start_processing(
    factory: sessionmaker[Session],
    db_url: str,
    data_dir: Path,
    book_id: int,
    options: IngestOptions,
    recognizer: Recognizer | None,
) -> bool:
    """Process the book's queued pages in the background; False if a run for it is already going."""

    def work(_progress: Progress) -> None:
        report = IngestReport(book_id=book_id)
        try:
            process_pending_pages(factory, data_dir, book_id, options, recognizer, report)
            log.info("Book %s: processed %s pages, %s failed", book_id, report.pages_done, report.pages_failed)
        except Exception:  # noqa: BLE001 — a background thread must log, not die silently
            log.exception("Background processing of book %s stopped", book_id)
            raise  # kept on the job

    job = _registry.start(db_url, str(book_id), book_id, work, thread_name=f"process-book-{book_id}")
    return job is not None
