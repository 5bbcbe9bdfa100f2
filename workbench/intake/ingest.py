"""Batch ingest: store uploaded pages once, run the page pipeline, persist records.

Two phases. Registration stores each file content-addressed and creates its `queued` pages
(one per frame of a PDF/TIFF); a file already in the book (same sha256) is skipped. Processing
sends every queued or half-done page of the book to an executor (in-process, process pool or
Dask) and persists each outcome. A page's records, fields, audit steps and its `done` status
are written in ONE transaction, so a process killed at any moment leaves each page either
untouched (redone on the next run) or complete (skipped on the next run): exactly once.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import FieldValue, Page, PageStatus, Record, User
from ocr.fields.local_lexicon import LocalLexicon
from ocr.image.loading import ImageLoadError, InputFile, load_images
from ocr.image.page_qa import duplicate_warning
from ocr.page_warnings import encode_warnings
from ocr.pipeline import PageOutcome, PageTask, duplicate_page
from ocr.read.engines.base import Recognizer
from ocr.reader import ModelFiles, build_reader
from ocr.types import FieldProposal, LedgerLayout, RecordRegion
from workbench.audit import record_event, record_step
from workbench.book_types import get_book_type
from workbench.books import BookIdentity, get_book, get_or_create_book
from workbench.db import refresh_statistics, transaction
from workbench.intake.book_type_hold import book_type_candidates, is_mismatch, was_confirmed
from workbench.intake.executors import ExecutorSpec, run_tasks
from workbench.intake.proposal_rows import write_proposal
from workbench.intake.registration_sequence import apply_book_sequence
from workbench.scope import CONTRACTORS, book_in_scope, load_scope, system_user
from workbench.storage import StorageError, sha256_bytes, store_derived_bytes, store_original
from workbench.training.lexicon_growth import local_lexicon_for_unit
from workbench.training.model_registry import model_files_for

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (page name, pages finished, pages total)


@dataclass(frozen=True)
class IngestOptions:
    run_ocr: bool = True
    pdf_dpi: int = 200
    retry_failed: bool = False  # failed pages stay failed (and visible) unless asked
    ocr_threads: int = 2
    executor: ExecutorSpec = ExecutorSpec()
    model_version: str | None = None  # a registered recognition model; None: the active one


@dataclass
class IngestReport:
    book_id: int
    pages_added: int = 0
    pages_already_present: int = 0
    pages_done: int = 0
    pages_failed: int = 0
    records_created: int = 0
    files_refused: int = 0  # files handed in that are not pages (archiver files, nested ZIPs)
    errors: list[str] = field(default_factory=list)  # English, one per failed or refused file/page


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
    """Add `files` to a book (by identity or id) and process every page of it not yet done.

    `actor` None: the command line / demo seeding, acting as the system account (workbench.scope).
    """
    book_id, actor = _book_and_actor(factory, identity, book_id, actor)
    report = IngestReport(book_id=book_id)
    for input_file in files:
        register_file(factory, data_dir, book_id, input_file, options, actor, report)
    process_pending_pages(factory, data_dir, book_id, options, recognizer, report, progress)
    bind = factory.kw.get("bind")
    if bind is not None:
        refresh_statistics(bind)  # a book's worth of new rows: let SQLite re-plan the hot queries
    return report


def _book_and_actor(factory: sessionmaker[Session], identity: BookIdentity | None, book_id: int | None,
                    actor: User | None) -> tuple[int, User]:
    """The book to add to, and who acts. Two ingests of a new book at once both try to create it
    (or its unit): the later insert hits the unique key, and trying again finds the first one's."""
    for attempt in (1, 2):
        try:
            with transaction(factory) as session:
                acting = actor or system_user(session)
                if book_id is None:
                    if identity is None:
                        raise ValueError("ingest needs a book identity or a book id")
                    found = get_or_create_book(session, identity, acting).id
                else:
                    found = get_book(session, book_id).id
                # In the same transaction: a book created outside the actor's units is rolled back.
                book_in_scope(session, load_scope(session, acting, CONTRACTORS), found)
                return found, acting
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("The book was created by a concurrent ingest; adding to it")
    raise AssertionError("unreachable")


def register_file(
    factory: sessionmaker[Session],
    data_dir: Path,
    book_id: int,
    input_file: InputFile,
    options: IngestOptions,
    actor: User,
    report: IngestReport,
) -> list[int]:
    """Store the file once and create its queued pages; returns the new page ids.

    Only a contractor or admin whose units cover the book may add to it (ScopeError otherwise).
    """
    with factory() as session:
        book_in_scope(session, load_scope(session, actor, CONTRACTORS), book_id)
    display_name = upload_display_name(input_file.name)
    if input_file.refusal is not None:
        _record_refusal(factory, book_id, actor, display_name, f"{input_file.name}: {input_file.refusal}")
        report.errors.append(f"{input_file.name}: {input_file.refusal}")
        report.files_refused += 1
        return []
    try:
        data = input_file.read_bytes()
    except ImageLoadError as exc:
        _record_refusal(factory, book_id, actor, display_name, str(exc))
        report.errors.append(str(exc))
        report.pages_failed += 1
        return []
    digest = sha256_bytes(data)
    with factory() as session:
        present = session.scalar(select(Page.id).where(Page.book_id == book_id, Page.sha256 == digest).limit(1))
    if present is not None:
        report.pages_already_present += 1
        _record_skip(factory, book_id, actor, display_name, int(present))
        return []
    load_error: str | None = None
    frame_count = 0
    try:
        # Counting opens every page but renders none (a PDF) or keeps none (a TIFF): a 500-page
        # upload costs one page's pixels here, not 500.
        frame_count = len(load_images(data, display_name, pdf_dpi=options.pdf_dpi))
    except ImageLoadError as exc:
        load_error = str(exc)
    if not data:
        # Nothing to keep for a zero-byte file: report it, store nothing but the book's note of it.
        message = load_error or f"{display_name}: the file is empty"
        _record_refusal(factory, book_id, actor, display_name, message)
        report.errors.append(message)
        report.pages_failed += 1
        return []
    try:
        stored = store_original(data_dir, data, display_name)
    except StorageError as exc:
        _record_refusal(factory, book_id, actor, display_name, str(exc))
        report.errors.append(str(exc))
        report.pages_failed += 1
        return []
    try:
        created = _add_pages(factory, book_id, display_name, digest, stored.relative_path, frame_count,
                             load_error, actor, report)
    except IntegrityError:
        # A concurrent ingest of the same file registered it between our check and our insert:
        # the file is in the book once, as it should be (its pages are processed by whichever runs).
        log.info("File %s was registered by a concurrent ingest of book %s", display_name, book_id)
        report.pages_already_present += 1
        return []
    report.pages_added += len(created)
    return created


def _add_pages(factory: sessionmaker[Session], book_id: int, display_name: str, digest: str, image_path: str,
               frame_count: int, load_error: str | None, actor: User | None, report: IngestReport) -> list[int]:
    """The file's queued pages (or its one failed page) at the end of the book, in one transaction."""
    created: list[int] = []
    with transaction(factory) as session:
        last_index = session.scalar(select(func.max(Page.page_index)).where(Page.book_id == book_id))
        next_index = (last_index or 0) + 1
        common = {"book_id": book_id, "original_name": display_name, "sha256": digest, "image_path": image_path}
        if load_error is not None:
            # A failed page keeps the bad file visible to the contractor; the book goes on.
            page = Page(**common, frame_index=0, page_index=next_index, status=PageStatus.FAILED, error=load_error)
            session.add(page)
            session.flush()
            record_event(session, actor=actor, entity_type="page", entity_id=page.id, action="upload_failed",
                         new={"file": display_name, "error": load_error})
            report.errors.append(load_error)
            report.pages_failed += 1
            log.warning("Page file %s failed to load: %s", display_name, load_error)
            return []
        for frame_index in range(frame_count):
            page = Page(**common, frame_index=frame_index, page_index=next_index + frame_index,
                        status=PageStatus.QUEUED)
            session.add(page)
            session.flush()
            record_event(session, actor=actor, entity_type="page", entity_id=page.id, action="upload",
                         new={"file": display_name, "frame": frame_index, "sha256": digest})
            created.append(page.id)
    return created


def _record_refusal(factory: sessionmaker[Session], book_id: int, actor: User | None, display_name: str,
                    reason: str) -> None:
    """A file handed in that became no page is named in the book's record (its audit trail), so
    nothing handed in vanishes without a trace even after the upload screen is gone."""
    with transaction(factory) as session:
        record_event(session, actor=actor, entity_type="book", entity_id=book_id, action="upload_refused",
                     new={"file": display_name, "reason": reason})
    log.warning("File %s refused: %s", display_name, reason)


def _record_skip(factory: sessionmaker[Session], book_id: int, actor: User | None, display_name: str,
                 page_id: int) -> None:
    """A file already in the book is skipped, and the book's upload log says so (with which page)."""
    with transaction(factory) as session:
        record_event(session, actor=actor, entity_type="book", entity_id=book_id, action="upload_skipped",
                     new={"file": display_name, "page_id": page_id})
    log.info("File %s is already in book %s (page %s); skipped", display_name, book_id, page_id)


MAX_NAME_CHARS = 255


def upload_display_name(name: str) -> str:
    """The uploaded name as kept for display: its last part only (either slash), printable, NFC and
    bounded. Browsers and ZIPs may send anything; PostgreSQL refuses NUL and over-long text."""
    last = re.split(r"[\\/]", name)[-1]
    text = "".join(ch for ch in unicodedata.normalize("NFC", last) if ch.isprintable()).strip()
    if text in ("", ".", ".."):
        return "upload"
    if len(text) > MAX_NAME_CHARS:
        suffix = Path(text).suffix[:16]
        text = text[: MAX_NAME_CHARS - len(suffix)] + suffix
    return text


def pending_page_ids(factory: sessionmaker[Session], book_id: int, retry_failed: bool = False) -> list[int]:
    statuses = [PageStatus.QUEUED, PageStatus.PROCESSING] + ([PageStatus.FAILED] if retry_failed else [])
    with factory() as session:
        return list(
            session.scalars(
                select(Page.id)
                .where(Page.book_id == book_id, Page.status.in_(statuses), Page.deleted.is_(False))
                .order_by(Page.page_index)
            )
        )


def process_pending_pages(
    factory: sessionmaker[Session],
    data_dir: Path,
    book_id: int,
    options: IngestOptions,
    recognizer: Recognizer | None,
    report: IngestReport,
    progress: ProgressCallback | None = None,
) -> None:
    """Run every queued, half-done (and with retry_failed, failed) page of the book."""
    with factory() as session:
        book = get_book(session, book_id)
        layout, unit_id = get_book_type(book.book_type).layout, book.unit_id
    page_ids = pending_page_ids(factory, book_id, options.retry_failed)
    if not page_ids:
        check_sequence(factory, book_id)  # an earlier run may have stopped between its last page and the check
        return
    model_version, model_files, local, reader = None, ModelFiles(), None, None
    if options.run_ocr:
        # What officials confirmed so far in this unit decodes the whole batch (counted once).
        with factory() as session:
            local = local_lexicon_for_unit(session, unit_id)
        # New proposals come from the model the registry names (the active one by default).
        model_files = model_files_for(data_dir, options.model_version)
        model_version = model_files.version
        # Workers in other processes build their own reader from the task's model files and words.
        if recognizer is not None or (options.executor.workers <= 1 and not options.executor.scheduler):
            reader = build_reader(model_files, threads=options.ocr_threads, local=local, recognizer=recognizer)
    tasks = _page_tasks(factory, data_dir, page_ids, layout, options, model_files, local)
    for finished, outcome in enumerate(run_tasks(tasks, options.executor, reader), start=1):
        if outcome.error is not None:
            mark_failed(factory, outcome.page_id, outcome.error, report)
        else:
            try:
                report.records_created += save_outcome(factory, data_dir, outcome, model_version)
                report.pages_done += 1
            except StorageError as exc:
                mark_failed(factory, outcome.page_id, str(exc), report)
        if progress:
            progress(str(outcome.page_id), finished, len(page_ids))
    check_sequence(factory, book_id)


def check_sequence(factory: sessionmaker[Session], book_id: int) -> None:
    """The book's registration-number gaps and repeats, as page warnings (new pages may open or close one)."""
    with transaction(factory) as session:
        check = apply_book_sequence(session, book_id)
    if check.findings:
        log.info("Book %s: %d registration-number gaps/repeats", book_id, len(check.findings))


def _page_tasks(
    factory: sessionmaker[Session],
    data_dir: Path,
    page_ids: list[int],
    layout: LedgerLayout,
    options: IngestOptions,
    model: ModelFiles,
    local: LocalLexicon | None = None,
) -> Iterator[PageTask]:
    """Tasks are built lazily: only the pages in flight hold their file's bytes in memory."""
    for page_id in page_ids:
        with transaction(factory) as session:
            page = session.get(Page, page_id)
            assert page is not None
            page.status = PageStatus.PROCESSING
            path, name, frame_index = data_dir / page.image_path, page.original_name, page.frame_index
        try:
            data = path.read_bytes()
        except OSError as exc:
            data = b""
            log.warning("Stored original of page %s is unreadable: %s", page_id, exc)
        yield PageTask(page_id=page_id, data=data, name=name, frame_index=frame_index, layout=layout,
                       run_ocr=options.run_ocr, pdf_dpi=options.pdf_dpi, ocr_threads=options.ocr_threads,
                       model=model, local=local, book_types=book_type_candidates())


def mark_failed(factory: sessionmaker[Session], page_id: int, error: str, report: IngestReport | None = None) -> None:
    with transaction(factory) as session:
        page = session.get(Page, page_id)
        assert page is not None
        page.status = PageStatus.FAILED
        page.error = error
        record_event(session, actor=None, entity_type="page", entity_id=page_id, action="processing_failed",
                     new={"error": error})
    if report is not None:
        report.errors.append(error)
        report.pages_failed += 1
    log.warning("Page %s failed: %s", page_id, error)


def save_outcome(
    factory: sessionmaker[Session], data_dir: Path, outcome: PageOutcome, model_version: str | None = None
) -> int:
    """Replace the page's machine records with the outcome and mark it done, atomically."""
    with factory() as session:
        page = session.get(Page, outcome.page_id)
        assert page is not None
        sha, frame_index = page.sha256, page.frame_index
    deskewed_path = store_derived_bytes(data_dir, sha, frame_index, "deskewed", outcome.deskewed_jpeg)
    with transaction(factory) as session:
        page = session.get(Page, outcome.page_id)
        assert page is not None
        # Leftovers of an interrupted earlier run are replaced, never duplicated.
        session.execute(delete(Record).where(Record.page_id == page.id))
        for region, proposals in zip(outcome.records, outcome.proposals, strict=True):
            session.add(new_record(page, region, proposals))
        session.flush()
        for step in outcome.steps:
            record_step(session, "page", page.id, step)
        page.perceptual_hash = outcome.perceptual_hash or None
        warnings = list(outcome.warnings)  # typed: stored through ocr.page_warnings below
        if any(is_mismatch(w) for w in warnings) and was_confirmed(session, page.id):
            # The contractor already confirmed this page belongs here: re-processing must not hold it
            # again (the book_type step keeps the evidence).
            warnings = [w for w in warnings if not is_mismatch(w)]
        elif any(is_mismatch(w) for w in warnings):
            log.warning("Page %s held: it looks like another book type (%s)", page.id,
                        ", ".join(encode_warnings(w for w in warnings if is_mismatch(w))))
        same_scan = duplicate_page(outcome.perceptual_hash, _book_page_hashes(session, page))
        if same_scan is not None:
            warnings.append(duplicate_warning(same_scan))
        page.status = PageStatus.DONE
        page.error = None
        page.deskew_angle = outcome.deskew_angle
        page.deskewed_path = deskewed_path
        page.header_bbox = outcome.header_box.as_list() if outcome.header_box else None  # PDF header band
        page.width, page.height = outcome.width, outcome.height
        page.warnings = encode_warnings(warnings)
        page.timings = {s.name: round(s.seconds, 4) for s in outcome.steps}
        page.model_version = model_version
        page.processed_at = datetime.now(UTC)
    return len(outcome.records)


def new_record(page: Page, region: RecordRegion, proposals: dict[str, FieldProposal],
               row_index: int | None = None) -> Record:
    """A machine record of the page: one ledger row's cell boxes and field proposals (not yet added)."""
    confidences = [p.confidence for p in proposals.values()]
    record = Record(
        book_id=page.book_id, page_id=page.id, row_index=row_index or region.row_index,
        bbox=region.box.as_list(), confidence=min(confidences) if confidences else 0.0,
    )
    cell_boxes = {cell.key: cell.box.as_list() for cell in region.cells}
    record.fields = [
        write_proposal(FieldValue(key=key, position=position, bbox=cell_boxes.get(key)), proposal)
        for position, (key, proposal) in enumerate(proposals.items())
    ]
    return record


def _book_page_hashes(session: Session, page: Page) -> dict[str, str]:
    """Hashes of the book's other live pages, keyed by a name contractors recognise."""
    rows = session.execute(
        select(Page.original_name, Page.page_index, Page.perceptual_hash).where(
            Page.book_id == page.book_id, Page.id != page.id, Page.deleted.is_(False),
            Page.perceptual_hash.is_not(None),
        )
    )
    # The column is nullable; the query already drops NULLs, the test tells the type checker so.
    return {f"{name} (trang {index})": hash_hex for name, index, hash_hex in rows if hash_hex is not None}
