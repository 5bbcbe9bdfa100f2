"""Exports and cross-checks that outlive a rerun: one background job (workbench.jobs) per export.

A book's ZIP of PDFs takes minutes; the page cannot block on it. Each job calls one scoped service
of workbench.deliverables.deliverables as the signed-in user (so the scope check and the audit are the
services'), reports progress to the job registry, and leaves its file in the data directory. The
page polls `jobs_of` every second and offers the download when the job is done. Jobs are kept per
(database, user) for this server's life: a reload, or a second tab, finds them again; a server
restart loses the list (not the files, nor the audit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from models import User
from workbench.db import transaction
from workbench.deliverables.deliverables import (
    CrosscheckOutcome,
    Deliverable,
    export_deliverable,
    open_deliverable,
    record_failure,
    run_book_crosscheck,
)
from workbench.errors import ScopeError, ServiceError
from workbench.jobs import Job, JobRegistry, Progress

log = logging.getLogger(__name__)

FAILED_VI = "Không hoàn thành do lỗi hệ thống; lỗi đã được ghi lại để quản trị kiểm tra."
GONE_VI = "Tài khoản không còn hoạt động."
KEEP_FINISHED = 20  # finished jobs kept per user (newest), so the list stays short


@dataclass(frozen=True)
class JobView:
    """A snapshot of a job for the page (never the live object: the thread keeps writing that)."""

    job_id: str  # "export:<book>:<format>" or "crosscheck:<book>"
    kind: str  # a format of workbench.deliverables.deliverables.FORMATS, or "crosscheck"
    book_id: int
    done: int = 0
    total: int = 0
    finished: bool = False
    error_vi: str | None = None
    result: Deliverable | None = None
    outcome: CrosscheckOutcome | None = None
    started: float = 0.0

    @property
    def running(self) -> bool:
        return not self.finished

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass(frozen=True)
class _Request:
    """What a job was asked to do (the registry's meta)."""

    kind: str
    book_id: int


_registry: JobRegistry[_Request, Deliverable | CrosscheckOutcome] = JobRegistry(keep_finished=KEEP_FINISHED)


def _view(job: Job[_Request, Deliverable | CrosscheckOutcome]) -> JobView:
    error_vi = None
    if job.error is not None:
        error_vi = job.error.message_vi if isinstance(job.error, ServiceError) else FAILED_VI
    value = job.result
    return JobView(job_id=job.job_id, kind=job.meta.kind, book_id=job.meta.book_id, done=job.done,
                   total=job.total, finished=job.finished, error_vi=error_vi,
                   result=value if isinstance(value, Deliverable) else None,
                   outcome=value if isinstance(value, CrosscheckOutcome) else None, started=job.started)


def jobs_of(db_url: str, user_id: int) -> list[JobView]:
    """This user's jobs, newest first."""
    return [_view(job) for job in _registry.jobs((db_url, user_id))]


def _start(factory: sessionmaker[Session], db_url: str, user_id: int, job_id: str, request: _Request,
           work: Callable[[Session, User, Progress], Deliverable | CrosscheckOutcome]) -> bool:
    """Run `work` in a background job inside one transaction; False when the same job is still running.

    A failure is audited, then re-raised: the registry keeps it, and `_view` shows a service error's
    Vietnamese message, or FAILED_VI for anything else."""

    def run(progress: Progress) -> Deliverable | CrosscheckOutcome:
        try:
            with transaction(factory) as session:
                user = session.get(User, user_id)
                if user is None:
                    raise ScopeError(f"User {user_id} is gone", GONE_VI)
                return work(session, user, progress)
        # The failure is audited before the job shows as finished: whoever sees it finished finds the record.
        except ServiceError as exc:
            _audit_failure(factory, user_id, request, type(exc).__name__)
            raise
        except Exception as exc:  # noqa: BLE001 — a background thread must log and report, not die silently
            log.exception("%s of book %s failed", request.kind, request.book_id)
            _audit_failure(factory, user_id, request, type(exc).__name__)
            raise

    return _registry.start((db_url, user_id), job_id, request, run, thread_name=f"deliverable-{job_id}") is not None


def _audit_failure(factory: sessionmaker[Session], user_id: int, job: _Request, reason: str) -> None:
    """The failed attempt goes into the book's audit too; a user who may not touch the book is not
    recorded against it (the refusal is the scope check's, and nothing was done)."""
    try:
        with transaction(factory) as session:
            user = session.get(User, user_id)
            if user is not None:
                record_failure(session, user, job.book_id, job.kind, reason)
    except ServiceError:
        pass
    except Exception:  # noqa: BLE001
        log.exception("Could not audit the failed %s of book %s", job.kind, job.book_id)


def start_export(factory: sessionmaker[Session], db_url: str, data_dir: Path, user_id: int, book_id: int,
                 fmt: str, include_unapproved: bool) -> bool:
    return _start(factory, db_url, user_id, f"export:{book_id:d}:{fmt}", _Request(fmt, book_id),
                  lambda session, user, progress: export_deliverable(
                      session, user, data_dir, book_id, fmt, include_unapproved=include_unapproved, progress=progress))


def start_crosscheck(factory: sessionmaker[Session], db_url: str, data_dir: Path, user_id: int, book_id: int,
                     extract_id: int) -> bool:
    return _start(factory, db_url, user_id, f"crosscheck:{book_id:d}", _Request("crosscheck", book_id),
                  lambda session, user, progress: run_book_crosscheck(
                      session, user, data_dir, extract_id, book_id, progress))


def download_bytes(factory: sessionmaker[Session], data_dir: Path, user_id: int, book_id: int,
                   file_name: str) -> bytes:
    """The file's bytes when the user clicks download (st.download_button's deferred data): the scope
    is checked again and the download audited at that moment, not when the button was drawn."""
    with transaction(factory) as session:
        user = session.get(User, user_id)
        if user is None:
            raise ScopeError(f"User {user_id} is gone", GONE_VI)
        path = open_deliverable(session, user, data_dir, book_id, file_name)
    return path.read_bytes()
