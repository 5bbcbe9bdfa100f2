"""Cross-check services: import an extract, match approved records, read back matched IDs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from models import Book, CrosscheckResult, CrosscheckStatus, Page, PopulationExtract, Record, RecordStatus, User
from workbench.audit import record_event
from workbench.crosscheck.extract import CitizenTable, ExtractError, read_extract
from workbench.crosscheck.index import CitizenIndex
from workbench.crosscheck.matching import MatchOutcome, match_person, person_queries
from workbench.deliverables.exports.records import official_value
from workbench.storage import sha256_bytes, store_original

log = logging.getLogger(__name__)
CHUNK = 5000  # ids per IN (...) clause: SQLite caps bound parameters


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


@dataclass
class CrosscheckSummary:
    extract_id: int
    records: int = 0
    people: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in CrosscheckStatus})
    seconds_load: float = 0.0
    seconds_match: float = 0.0


def import_extract(session: Session, data_dir: Path, path: Path, actor: User | None = None) -> PopulationExtract:
    """Validate the whole file first; only a fully valid extract is stored and recorded."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"Cannot read {path}: {exc}", f"Không đọc được tệp {path.name}") from exc
    table = read_extract(data, path.name)
    stored = store_original(data_dir, data, path.name)
    extract = PopulationExtract(
        original_name=path.name, sha256=sha256_bytes(data), stored_path=stored.relative_path,
        row_count=len(table), imported_by_id=actor.id if actor else None,
    )
    session.add(extract)
    session.flush()
    record_event(session, actor=actor, entity_type="population_extract", entity_id=extract.id, action="import",
                 new={"file": path.name, "rows": len(table), "sha256": extract.sha256})
    return extract


def load_extract_table(session: Session, data_dir: Path, extract_id: int) -> CitizenTable:
    extract = session.get(PopulationExtract, extract_id)
    if extract is None:
        raise ExtractError(f"No population extract with id {extract_id}",
                           f"Không có tệp trích xuất dân cư số {extract_id}")
    try:
        data = (data_dir / extract.stored_path).read_bytes()
    except OSError as exc:
        raise ExtractError(f"Extract {extract_id} is missing from the data directory: {exc}",
                           f"Tệp trích xuất {extract_id} không còn trong thư mục dữ liệu") from exc
    return read_extract(data, extract.original_name)


def approved_records(session: Session, book_ids: Iterable[int] | None = None) -> list[Record]:
    query = (
        select(Record)
        .join(Page, Record.page_id == Page.id)
        .where(Record.status == RecordStatus.APPROVED, Page.deleted.is_(False))
        .options(selectinload(Record.fields), selectinload(Record.book))
        .order_by(Record.book_id, Record.id)
    )
    if book_ids is not None:
        query = query.where(Record.book_id.in_(list(book_ids)))
    return list(session.scalars(query))


def run_crosscheck(session: Session, data_dir: Path, extract_id: int, book_ids: Iterable[int] | None = None,
                   index: CitizenIndex | None = None, progress: Callable[[int, int], None] | None = None,
                   actor: User | None = None) -> CrosscheckSummary:
    """Match every approved record's people; earlier results for those records are replaced.

    Supervisors' resolutions of earlier results are dropped with them: a new extract is a new check.
    progress(records matched, records in all) drives the app's progress bar; actor names who ran it in
    the audit (the app's scoped wrapper, workbench.deliverables.deliverables, passes the signed-in supervisor).
    """
    summary = CrosscheckSummary(extract_id)
    started = time.perf_counter()
    if index is None:
        index = CitizenIndex.build(load_extract_table(session, data_dir, extract_id))
    summary.seconds_load = time.perf_counter() - started
    started = time.perf_counter()
    records = approved_records(session, book_ids)
    for chunk in _chunks([r.id for r in records]):
        session.execute(delete(CrosscheckResult).where(CrosscheckResult.record_id.in_(chunk)))
    now = datetime.now(UTC)
    for record in records:
        values = {f.key: official_value(f) for f in record.fields}
        for query in person_queries(record.book.book_type, values):
            outcome = match_person(index, query)
            session.add(_result_row(index, record.id, extract_id, query.role, query.values, outcome, now))
            summary.people += 1
            summary.counts[outcome.status.value] += 1
        summary.records += 1
        if progress is not None:
            progress(summary.records, len(records))
    session.flush()
    summary.seconds_match = time.perf_counter() - started
    record_event(session, actor=actor, entity_type="population_extract", entity_id=extract_id, action="crosscheck",
                 new={"records": summary.records, "people": summary.people, "counts": summary.counts})
    return summary


def _result_row(index: CitizenIndex, record_id: int, extract_id: int, role: str, book_values: dict[str, str],
                outcome: MatchOutcome, now: datetime) -> CrosscheckResult:
    citizen = index.table.row(outcome.row) if outcome.row is not None else {}
    return CrosscheckResult(
        record_id=record_id, role=role, extract_id=extract_id, status=outcome.status.value,
        id_number=citizen.get("id_number"), book_values=book_values,
        citizen_values={k: v for k, v in citizen.items() if v}, differing_fields=outcome.differing,
        candidate_count=outcome.candidates, checked_at=now,
    )


def matched_person_ids(session: Session, record_ids: list[int]) -> dict[tuple[int, str], str]:
    """(record id, role) -> personal ID number, for people the cross-check matched."""
    found: dict[tuple[int, str], str] = {}
    for chunk in _chunks(record_ids):
        rows = session.execute(
            select(CrosscheckResult.record_id, CrosscheckResult.role, CrosscheckResult.id_number).where(
                CrosscheckResult.record_id.in_(chunk),
                CrosscheckResult.status == CrosscheckStatus.MATCH,
                CrosscheckResult.id_number.is_not(None),
            )
        ).all()
        found.update({(record_id, role): id_number for record_id, role, id_number in rows if id_number})
    return found


def book_ids_of_units(session: Session, unit_ids: Iterable[int]) -> list[int]:
    return list(session.scalars(select(Book.id).where(Book.unit_id.in_(list(unit_ids)))))
