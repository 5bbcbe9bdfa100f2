"""Recognition-model administration for supervisors and admins (the "Mô hình nhận dạng" page).

Wraps the file-based registry (``workbench.training.model_registry``) with role checks: list versions
with their meta, compare a candidate with the active model on held-out confirmed fields,
activate / roll back (the registry audits both), re-propose open records with the active
model in a background job (``workbench.jobs``), and recount the per-unit lexicons. Nothing here
needs PyTorch: training is CLI-only (:data:`TRAIN_COMMAND`). The page's Vietnamese tables are
built in ``workbench.ui.model_tables``.

Supervisors act within their units (re-recognition and lexicons cover their books only);
the model itself is shared by every unit, as is the choice of the active version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Book, Page, User
from workbench.errors import ConfirmationRequiredError, InvalidActionError, NotFoundError
from workbench.jobs import Job, JobRegistry, Progress
from workbench.scope import SUPERVISORS, Scope, load_scope
from workbench.training.compare import ModelComparison, compare_models
from workbench.training.db_lines import reviewed_fields, reviewed_page_lines
from workbench.training.fields import HeldOutField, fields_from_lines
from workbench.training.lexicon_growth import UnitLexicon, update_all_lexicons, update_unit_lexicon
from workbench.training.model_registry import (
    ModelRegistryError,
    ModelVersion,
    activate,
    activation_stack,
    active_version,
    get_model,
    list_models,
    rollback,
)
from workbench.training.rerecognize import RerecognitionReport, pages_to_rerecognize, rerecognize_with_version

log = logging.getLogger(__name__)

TRAIN_COMMAND = "python -m workbench train --since YYYY-MM-DD --max-minutes 60"
MAX_COMPARE_FIELDS = 300  # keeps a comparison within a minute or two on the 2-core server
HELD_OUT_VALIDATION = "validation_pages"  # the pages the training run held out
HELD_OUT_LATER = "reviewed_after_training"  # fields confirmed after the model was made: never trained on
HELD_OUT_NONE = "none"


# --- listing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSummary:
    version: str
    created_at: str | None
    parent_version: str | None
    description: str
    train_lines: int | None
    train_pages: int | None
    validation_lines: int | None
    validation_pages: int | None
    units: tuple[str, ...]  # units whose confirmed fields trained it
    validation_cer_before: float | None
    validation_cer_after: float | None
    has_calibration: bool
    is_active: bool
    is_shipped: bool


def _summary(model: ModelVersion, active: str) -> ModelSummary:
    meta = model.meta
    training = meta.get("training_set") or {}
    train, validation = training.get("train") or {}, training.get("validation") or {}
    return ModelSummary(
        version=model.version, created_at=meta.get("created_at"), parent_version=meta.get("parent_version"),
        description=str(meta.get("description", "")),
        train_lines=train.get("lines"), train_pages=train.get("pages"),
        validation_lines=validation.get("lines"), validation_pages=validation.get("pages"),
        units=tuple(train.get("units") or ()),
        validation_cer_before=meta.get("validation_cer_before"), validation_cer_after=meta.get("validation_cer_after"),
        has_calibration=model.calibration_path is not None, is_active=model.version == active,
        is_shipped=model.is_shipped,
    )


def _require_supervisor(session: Session, actor: User) -> Scope:
    return load_scope(session, actor, SUPERVISORS)


def _model(data_dir: Path, version: str) -> ModelVersion:
    try:
        return get_model(data_dir, version)
    except ModelRegistryError as exc:
        raise NotFoundError(str(exc), f"Không tìm thấy mô hình '{version}'.") from exc


def list_model_summaries(session: Session, actor: User, data_dir: Path) -> list[ModelSummary]:
    """Every version, newest first (the shipped model last), with its training meta."""
    _require_supervisor(session, actor)
    active = active_version(data_dir)
    return [_summary(m, active) for m in reversed(list_models(data_dir))]


def rollback_target(session: Session, actor: User, data_dir: Path) -> str | None:
    """The version a rollback would re-activate (None: the shipped model is active, nothing to undo)."""
    _require_supervisor(session, actor)
    stack = activation_stack(data_dir)
    return stack[-2] if len(stack) >= 2 else None


# --- comparison on held-out confirmed fields ------------------------------------------------------

@dataclass(frozen=True)
class HeldOutSet:
    fields: list[HeldOutField]
    source: str  # HELD_OUT_VALIDATION | HELD_OUT_LATER | HELD_OUT_NONE
    pages: int


def _page_ids_from_keys(keys: list[str]) -> set[int]:
    """Training page keys look like ``db:page:<id>``; folder/synthetic keys are not in the database."""
    ids = set()
    for key in keys:
        prefix, _, number = key.rpartition(":")
        if prefix == "db:page" and number.isdigit():
            ids.add(int(number))
    return ids


def _created_at(model: ModelVersion) -> datetime | None:
    stamp = model.meta.get("created_at")
    try:
        return datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return None


def held_out_fields(
    session: Session, data_dir: Path, model: ModelVersion, max_fields: int = MAX_COMPARE_FIELDS
) -> HeldOutSet:
    """Confirmed fields the candidate never trained on: its validation pages, else fields reviewed after it.

    Pages are cut one by one until ``max_fields`` fields are collected (cutting is the slow part).
    """
    validation_ids = _page_ids_from_keys(list(model.meta.get("validation_pages") or []))
    created = _created_at(model)
    if validation_ids:
        source = HELD_OUT_VALIDATION
        reviewed = [f for f in reviewed_fields(session) if f.page_id in validation_ids]
    elif created is not None and not model.is_shipped:
        source = HELD_OUT_LATER
        reviewed = reviewed_fields(session, since=created)
    else:
        return HeldOutSet([], HELD_OUT_NONE, 0)
    by_page: dict[int, list] = {}
    for reviewed_field in reviewed:
        by_page.setdefault(reviewed_field.page_id, []).append(reviewed_field)
    fields: list[HeldOutField] = []
    pages = 0
    for page_id, page_fields in by_page.items():
        if len(fields) >= max_fields:
            break
        lines, _ = reviewed_page_lines(data_dir, page_id, page_fields)
        fields.extend(fields_from_lines(lines))
        pages += 1
    return HeldOutSet(fields[:max_fields], source if fields else HELD_OUT_NONE, pages)


@dataclass(frozen=True)
class ComparisonResult:
    candidate: str
    active: str
    held_out: HeldOutSet
    comparison: ModelComparison | None  # None: no held-out fields to read


def compare_with_active(
    session: Session, actor: User, data_dir: Path, candidate: str, *,
    max_fields: int = MAX_COMPARE_FIELDS, threads: int = 2,
) -> ComparisonResult:
    """Read the candidate's held-out fields with the candidate and with the active model."""
    _require_supervisor(session, actor)
    model = _model(data_dir, candidate)
    active = active_version(data_dir)
    if model.version == active:
        raise InvalidActionError(f"{candidate} is already active",
                                 "Mô hình này đang được dùng; hãy chọn một phiên bản khác để so sánh.")
    held_out = held_out_fields(session, data_dir, model, max_fields)
    if not held_out.fields:
        return ComparisonResult(model.version, active, held_out, None)
    comparison = compare_models(model.version, active, held_out.fields, data_dir=data_dir, threads=threads)
    log.info("Compared %s with %s on %d held-out fields (%s): CER %.4f vs %.4f", model.version, active,
             len(held_out.fields), held_out.source, comparison.candidate.cer, comparison.active.cer)
    return ComparisonResult(model.version, active, held_out, comparison)


# --- activation ----------------------------------------------------------------------------------

def activate_model(session: Session, actor: User, data_dir: Path, version: str, *, confirm: bool) -> str:
    """Make ``version`` the active model (audited by the registry); returns the previous one."""
    scope = _require_supervisor(session, actor)
    if not confirm:
        raise ConfirmationRequiredError("activation needs confirm=True",
                                        "Hãy đánh dấu ô xác nhận trước khi kích hoạt mô hình.")
    model = _model(data_dir, version)
    if model.version == active_version(data_dir):
        raise InvalidActionError(f"{version} is already active", "Mô hình này đang được dùng.")
    previous = activate(session, data_dir, model.version, scope.user)
    log.info("User %s activated model %s (was %s)", scope.user.username, model.version, previous)
    return previous


def rollback_model(session: Session, actor: User, data_dir: Path, *, confirm: bool) -> str:
    """Re-activate the version active before the current one (audited); returns it."""
    scope = _require_supervisor(session, actor)
    if not confirm:
        raise ConfirmationRequiredError("rollback needs confirm=True",
                                        "Hãy đánh dấu ô xác nhận trước khi quay lại mô hình trước.")
    try:
        target = rollback(session, data_dir, scope.user)
    except ModelRegistryError as exc:
        raise InvalidActionError(str(exc), "Đang dùng mô hình gốc: không có mô hình trước để quay lại.") from exc
    log.info("User %s rolled the model back to %s", scope.user.username, target)
    return target


# --- lexicons ------------------------------------------------------------------------------------

def refresh_lexicons(session: Session, actor: User, data_dir: Path) -> list[UnitLexicon]:
    """Recount the lexicons of every unit with books (admin) or of the supervisor's units."""
    scope = _require_supervisor(session, actor)
    if scope.is_admin:
        return update_all_lexicons(session, data_dir)
    unit_ids = session.scalars(select(Book.unit_id).distinct().where(scope.unit_filter(Book.unit_id))).all()
    return [update_unit_lexicon(session, data_dir, unit_id) for unit_id in sorted(unit_ids)]


# --- re-recognition of open records --------------------------------------------------------------

@dataclass(frozen=True)
class _RerecognitionRun:
    """What a re-recognition job was asked to do (the job registry's meta)."""

    model_version: str
    started_by: str
    started_at: datetime
    book_ids: list[int] | None  # None: every book


@dataclass(frozen=True)
class RerecognitionJob(_RerecognitionRun):
    """A snapshot of the background job (what it was asked, then how far it is); it lives in this
    server process only (progress: the DB)."""

    pages_done: int = 0
    pages_total: int = 0
    finished: bool = False
    report: RerecognitionReport | None = None
    error: str | None = None
    running: bool = False  # its thread was alive when the snapshot was taken


@dataclass(frozen=True)
class RerecognitionProgress:
    """Read from the database, so a reload (or a server restart) shows the same numbers."""

    model_version: str  # the active model
    pages_open: int  # pages in scope with records not yet approved/rejected
    pages_on_model: int  # of those, pages whose proposals come from the active model


# One job per database (the owner): pages of two jobs would overlap.
_RERECOGNITION = "rerecognition"
_jobs: JobRegistry[_RerecognitionRun, RerecognitionReport] = JobRegistry()


def _job_view(job: Job[_RerecognitionRun, RerecognitionReport]) -> RerecognitionJob:
    run = job.meta
    error = None if job.error is None else f"{type(job.error).__name__}: {job.error}"
    return RerecognitionJob(run.model_version, run.started_by, run.started_at, run.book_ids, pages_done=job.done,
                            pages_total=job.total, finished=job.finished, report=job.result, error=error,
                            running=job.running)


def _scope_book_ids(session: Session, scope: Scope) -> list[int] | None:
    if scope.is_admin:
        return None
    return list(session.scalars(select(Book.id).where(scope.unit_filter(Book.unit_id)).order_by(Book.id)))


def rerecognition_progress(session: Session, actor: User, data_dir: Path) -> RerecognitionProgress:
    scope = _require_supervisor(session, actor)
    version = active_version(data_dir)
    book_ids = _scope_book_ids(session, scope)
    if book_ids == []:
        return RerecognitionProgress(version, 0, 0)
    page_ids = pages_to_rerecognize(session, book_ids)
    on_model = 0
    for start in range(0, len(page_ids), 500):  # bounded IN lists
        chunk = page_ids[start : start + 500]
        on_model += len(session.scalars(
            select(Page.id).where(Page.id.in_(chunk), Page.model_version == version)).all())
    return RerecognitionProgress(version, len(page_ids), on_model)


def rerecognition_job(db_url: str) -> RerecognitionJob | None:
    """The latest job started in this server for that database (running or finished)."""
    job = _jobs.get(db_url, _RERECOGNITION)
    return None if job is None else _job_view(job)


def start_rerecognition(
    session: Session, actor: User, factory: sessionmaker[Session], db_url: str, data_dir: Path, *, threads: int = 2,
) -> RerecognitionJob:
    """Re-propose the open records in the actor's scope with the active model, in a background thread.

    Refused while another re-recognition of the same database runs. Each page is its own
    transaction (see ``workbench.training.rerecognize``), so progress lives in the database.
    """
    scope = _require_supervisor(session, actor)
    book_ids = _scope_book_ids(session, scope)
    if book_ids == []:
        raise InvalidActionError("no books in scope", "Chưa có sổ nào trong phạm vi của bạn.")
    version = active_version(data_dir)

    def work(progress: Progress) -> RerecognitionReport:
        try:
            report = rerecognize_with_version(factory, data_dir, version, threads=threads,
                                              book_ids=book_ids, progress=progress)
            log.info("Re-recognition with %s: %s pages, %s fields changed, %s pages failed", version,
                     report.pages, report.fields_changed, len(report.pages_failed))
        except Exception:  # noqa: BLE001 — a background thread must log, not die silently
            log.exception("Re-recognition with %s stopped", version)
            raise  # kept on the job: the page shows its type and message
        return report

    run = _RerecognitionRun(version, scope.user.username, datetime.now(UTC), book_ids)
    job = _jobs.start(db_url, _RERECOGNITION, run, work, thread_name="rerecognize-open-records")
    if job is None:
        raise InvalidActionError("a re-recognition is already running",
                                 "Đang nhận dạng lại; hãy chờ lượt đang chạy xong.")
    log.info("User %s started re-recognition with %s (books: %s)", scope.user.username, version,
             "all" if book_ids is None else len(book_ids))
    return _job_view(job)
