"""Re-propose the open records of a book with another model (after a model is activated).

Only fields still ``proposed`` on records not yet approved or rejected, and not claimed by an
official right now, are rewritten; confirmed and corrected values are never touched. Each page
is one transaction that records which model made its proposals (``Page.model_version``) and an
audit event, so a job killed midway leaves every page either old or new. Each page is decoded
with the words officials confirmed in its book's unit (counted once per unit and job), and the
audit event says how many (``local_words``). As at ingest, the record and page checks
(``ocr.recognition.apply_record_checks`` / ``apply_page_checks``) cap a re-read field its record
contradicts, or a registration date out of its page's order, below the high band with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Book, FieldStatus, FieldValue, Page, Record, RecordStatus
from ocr.fields.local_lexicon import LocalLexicon
from ocr.page_warnings import decode_warnings, warning_codes
from ocr.reader import Reader
from ocr.recognition import apply_page_checks, apply_record_checks, propose_cells
from ocr.types import Box, FieldProposal
from workbench.audit import record_event
from workbench.book_types import get_book_type
from workbench.db import transaction
from workbench.intake.proposal_rows import write_proposal
from workbench.intake.registration_sequence import apply_book_sequence
from workbench.review.drafts import current_value
from workbench.review.queue import claim_is_free
from workbench.training.cell_lines import StoredCell, cut_stored_cells
from workbench.training.lexicon_growth import local_lexicon_for_unit

log = logging.getLogger(__name__)

RE_PROPOSABLE = (RecordStatus.PROPOSED, RecordStatus.IN_REVIEW, RecordStatus.FLAGGED)
ProgressCallback = Callable[[int, int], None]  # (pages finished, pages total)


@dataclass
class RerecognitionReport:
    model_version: str
    pages: int = 0
    records: int = 0
    fields_updated: int = 0
    fields_changed: int = 0  # of those, how many got a different value
    pages_failed: list[str] = field(default_factory=list)


def pages_to_rerecognize(session: Session, book_ids: list[int] | None = None) -> list[int]:
    query = (
        select(Page.id).distinct()
        .join(Record, Record.page_id == Page.id)
        .where(Page.deleted.is_(False), Page.deskewed_path.is_not(None),
               Record.status.in_([str(s) for s in RE_PROPOSABLE]))
        .order_by(Page.id)
    )
    if book_ids:
        query = query.where(Page.book_id.in_(book_ids))
    return list(session.scalars(query))


def rerecognize_open_records(
    factory: sessionmaker[Session],
    data_dir: Path,
    reader: Reader,
    *,
    book_ids: list[int] | None = None,
    progress: ProgressCallback | None = None,
) -> RerecognitionReport:
    """Re-propose every still-proposed field of open records, page by page, with ``reader``'s model
    (each page decoded with its book unit's confirmed words, whatever words ``reader`` holds)."""
    with factory() as session:
        page_ids = pages_to_rerecognize(session, book_ids)
    report = RerecognitionReport(reader.model_version)
    lexicons: dict[int, LocalLexicon] = {}  # unit id -> its confirmed words, counted once per job
    for number, page_id in enumerate(page_ids, start=1):
        try:
            _rerecognize_page(factory, data_dir, page_id, reader, report, lexicons)
        except Exception as exc:  # noqa: BLE001 — one bad page must not stop the job
            log.exception("Re-recognition failed on page %s", page_id)
            report.pages_failed.append(f"page {page_id}: {type(exc).__name__}: {exc}")
        if progress:
            progress(number, len(page_ids))
    return report


def _open_fields(session: Session, page_id: int) -> list[tuple[FieldValue, Record]]:
    moment = datetime.now(UTC)
    query = (
        select(FieldValue, Record)
        .join(Record, FieldValue.record_id == Record.id)
        .where(Record.page_id == page_id, Record.status.in_([str(s) for s in RE_PROPOSABLE]),
               claim_is_free(moment), FieldValue.status == str(FieldStatus.PROPOSED), FieldValue.bbox.is_not(None))
        .order_by(Record.row_index, FieldValue.position)
    )
    return [(f, r) for f, r in session.execute(query)]


def _rerecognize_page(
    factory: sessionmaker[Session], data_dir: Path, page_id: int, reader: Reader, report: RerecognitionReport,
    lexicons: dict[int, LocalLexicon],
) -> None:
    with transaction(factory) as session:
        page = session.get(Page, page_id)
        assert page is not None
        book = session.get(Book, page.book_id)
        assert book is not None
        targets = _open_fields(session, page_id)
        if not targets:
            return
        image = cv2.imread(str(data_dir / (page.deskewed_path or "")), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"deskewed image {page.deskewed_path} is missing")
        layout = get_book_type(book.book_type).layout
        types = {c.key: c.field_type for c in layout.columns}
        cells = cut_stored_cells(image, layout, [StoredCell(f.key, Box.from_list(f.bbox or [0, 0, 0, 0]),
                                                            float(r.bbox[3])) for f, r in targets])
        if cells is None:
            raise ValueError("no ledger grid found on the stored deskewed page")
        if book.unit_id not in lexicons:
            lexicons[book.unit_id] = local_lexicon_for_unit(session, book.unit_id)
        local = lexicons[book.unit_id]
        # As at ingest: the page's QA warnings (a guessed grid) are evidence of doubt for the calibrator,
        # and how surely its open fields (most of the page) are read is evidence for each of them.
        proposals = propose_cells([(c, types.get(c.key, "free_text")) for c in cells], reader.recognizer,
                                  reader.calibrator, local,
                                  page_warnings=warning_codes(decode_warnings(page.warnings)), one_page=True)
        checked = checked_proposals(session, page_id, {f.id: p for (f, _), p in zip(targets, proposals, strict=True)},
                                    types)
        touched: dict[int, Record] = {}
        for field_value, record in targets:
            proposal = checked[field_value.id]
            report.fields_changed += field_value.proposed_value != proposal.value
            _apply(field_value, proposal)
            touched[record.id] = record
            report.fields_updated += 1
        for record in touched.values():
            # Queue order follows the weakest field, as at ingest.
            record.confidence = min((f.confidence for f in record.fields), default=0.0)
        previous = page.model_version
        page.model_version = reader.model_version
        record_event(session, actor=None, entity_type="page", entity_id=page_id, action="rerecognize",
                     old={"model_version": previous},
                     new={"model_version": reader.model_version, "fields": len(targets), "records": len(touched),
                          "local_words": local.size})
        report.pages += 1
        report.records += len(touched)
        # New proposals may read other registration numbers: the book's gaps and repeats follow.
        apply_book_sequence(session, book.id)


def checked_proposals(session: Session, page_id: int, fresh: dict[int, FieldProposal],
                      field_types: dict[str, str]) -> dict[int, FieldProposal]:
    """The new proposals (by field row id) after the checks ingest applies (``ocr.recognition.propose_page``):
    a field its record contradicts (a birth after the registration) and a registration date out of its
    page's order are capped below the high band, with the reason in their messages.

    The checks see each record whole and the page's records top to bottom: the fields not read again
    (confirmed or corrected by an official, claimed, without a cell box) take part with the value the
    record holds now. Rejected records are not registrations and take no part.
    """
    records = sorted(
        session.scalars(select(Record).where(Record.page_id == page_id, Record.status != str(RecordStatus.REJECTED))),
        key=lambda r: (r.bbox[1], r.row_index),  # top to bottom (a re-cut grid may leave row numbers out of order)
    )
    field_ids: list[dict[str, int]] = []
    page: list[dict[str, FieldProposal]] = []
    for record in records:
        fields = sorted(record.fields, key=lambda f: f.position)
        field_ids.append({f.key: f.id for f in fields})
        # Stand-ins for the values not read again: only their values matter to the checks.
        page.append(apply_record_checks(
            {f.key: fresh[f.id] if f.id in fresh else FieldProposal(f.key, current_value(f), f.confidence)
             for f in fields}, field_types))
    checked = {field_ids[row][key]: proposal
               for row, by_key in enumerate(apply_page_checks(page, field_types))
               for key, proposal in by_key.items() if field_ids[row][key] in fresh}
    # Records outside the page's list (none today) keep their proposals as read.
    return {field_id: checked.get(field_id, proposal) for field_id, proposal in fresh.items()}


def _apply(field_value: FieldValue, proposal: FieldProposal) -> None:
    assert field_value.status == FieldStatus.PROPOSED  # reviewed values are never re-proposed
    write_proposal(field_value, proposal)


def rerecognize_with_version(
    factory: sessionmaker[Session],
    data_dir: Path,
    version: str | None = None,
    *,
    threads: int = 2,
    book_ids: list[int] | None = None,
    progress: ProgressCallback | None = None,
) -> RerecognitionReport:
    """Re-propose open records with a registered model (default: the active one) and its calibrator."""
    from workbench.training.model_registry import reader_for

    return rerecognize_open_records(factory, data_dir, reader_for(data_dir, version, threads), book_ids=book_ids,
                                    progress=progress)
