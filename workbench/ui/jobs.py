"""Page processing that outlives the browser tab: one background thread per book in this server.

The thread only calls `workbench.ingest.process_pending_pages`; every page's state is in the
database, so the contractor's status table (and a reload, or another browser) reads progress
from there, and a server restart loses nothing: queued pages are resumed with the same call.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ocr.engines.base import Recognizer
from workbench.ingest import IngestOptions, IngestReport, process_pending_pages

log = logging.getLogger(__name__)

_lock = threading.Lock()
_running: dict[tuple[str, int], threading.Thread] = {}


def is_processing(db_url: str, book_id: int) -> bool:
    with _lock:
        thread = _running.get((db_url, book_id))
        return thread is not None and thread.is_alive()


def start_processing(
    factory: sessionmaker[Session],
    db_url: str,
    data_dir: Path,
    book_id: int,
    options: IngestOptions,
    recognizer: Recognizer | None,
) -> bool:
    """Process the book's queued pages in the background; False if a run for it is already going."""
    key = (db_url, book_id)
    with _lock:
        if key in _running and _running[key].is_alive():
            return False

        def work() -> None:
            report = IngestReport(book_id=book_id)
            try:
                process_pending_pages(factory, data_dir, book_id, options, recognizer, report)
                log.info("Book %s: processed %s pages, %s failed", book_id, report.pages_done, report.pages_failed)
            except Exception:  # noqa: BLE001 — a background thread must log, not die silently
                log.exception("Background processing of book %s stopped", book_id)

        thread = threading.Thread(target=work, name=f"process-book-{book_id}", daemon=True)
        _running[key] = thread
        thread.start()
        return True
