"""Exports and cross-checks that outlive a rerun: one background thread per job in this server.

A book's ZIP of PDFs takes minutes; the page cannot block on it. Each job calls one scoped service
of workbench.deliverables as the signed-in user (so the scope check and the audit are the
services'), reports progress here, and leaves its file in the data directory. The page polls
`jobs_of` every second and offers the download when the job is done. Jobs are kept per (database,
user) for this server's life: a reload, or a second tab, finds them again; a server restart loses
the list (not the files, nor the audit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from models import User
from workbench.db import transaction
from workbench.deliverables import (
    CrosscheckOutcome,
    Deliverable,
    export_deliverable,
    open_deliverable,
    record_failure,
    run_book_crosscheck,
)
from workbench.errors import ScopeError, ServiceError

log = logging.getLogger(__name__)

FAILED_VI = "Không hoàn thành do lỗi hệ thống; lỗi đã được ghi lại để quản trị kiểm tra."
GONE_VI = "Tài khoản không còn hoạt động."
KEEP_FINISHED = 20  # finished jobs kept per user (newest), so the list stays short


@dataclass(frozen=True)
class JobView:
    """A snapshot of a job for the page (never the live object: the thread keeps writing that)."""

    job_id: str  # "export:<book>:<format>" or "crosscheck:<book>"
    kind: str  # a format of workbench.deliverables.FORMATS, or "crosscheck"
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


_lock = threading.Lock()
_jobs: dict[tuple[str, int], dict[str, JobView]] = {}
_threads: dict[tuple[str, int, str], threading.Thread] = {}


def jobs_of(db_url: str, user_id: int) -> list[JobView]:
    """This user's jobs, newest first."""
    with _lock:
        return sorted(_jobs.get((db_url, user_id), {}).values(), key=lambda j: j.started, reverse=True)


def _update(owner: tuple[str, int], job_id: str, **changes: object) -> None:
    with _lock:
        jobs = _jobs.get(owner, {})
        if job_id in jobs:
            jobs[job_id] = replace(jobs[job_id], **changes)  # type: ignore[arg-type]


def _start(factory: sessionmaker[Session], db_url: str, user_id: int, job: JobView,
           work: Callable[[Session, User, Callable[[int, int], None]], Deliverable | CrosscheckOutcome]) -> bool:
    """Run `work` in a thread inside one transaction; False when the same job is still running."""
    owner = (db_url, user_id)
    with _lock:
        thread = _threads.get((*owner, job.job_id))
        if thread is not None and thread.is_alive():
            return False
        jobs = _jobs.setdefault(owner, {})
        jobs[job.job_id] = job
        finished = sorted((j for j in jobs.values() if j.finished), key=lambda j: j.started)
        for old in finished[:-KEEP_FINISHED]:
            del jobs[old.job_id]

        def progress(done: int, total: int) -> None:
            _update(owner, job.job_id, done=done, total=total)

        def run() -> None:
            try:
                with transaction(factory) as session:
                    user = session.get(User, user_id)
                    if user is None:
                        raise ScopeError(f"User {user_id} is gone", GONE_VI)
                    value = work(session, user, progress)
            # The failure is audited before the job shows as finished: whoever sees it finished finds the record.
            except ServiceError as exc:
                _audit_failure(factory, user_id, job, type(exc).__name__)
                _update(owner, job.job_id, finished=True, error_vi=exc.message_vi)
            except Exception as exc:  # noqa: BLE001 — a background thread must log and report, not die silently
                log.exception("%s of book %s failed", job.kind, job.book_id)
                _audit_failure(factory, user_id, job, type(exc).__name__)
                _update(owner, job.job_id, finished=True, error_vi=FAILED_VI)
            else:
                if isinstance(value, Deliverable):
                    _update(owner, job.job_id, finished=True, result=value)
                else:
                    _update(owner, job.job_id, finished=True, outcome=value)

        thread = threading.Thread(target=run, name=f"deliverable-{job.job_id}", daemon=True)
        _threads[(*owner, job.job_id)] = thread
    thread.start()
    return True


def _audit_failure(factory: sessionmaker[Session], user_id: int, job: JobView, reason: str) -> None:
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
    job = JobView(job_id=f"export:{book_id:d}:{fmt}", kind=fmt, book_id=book_id, started=time.time())
    return _start(factory, db_url, user_id, job, lambda session, user, progress: export_deliverable(
        session, user, data_dir, book_id, fmt, include_unapproved=include_unapproved, progress=progress))


def start_crosscheck(factory: sessionmaker[Session], db_url: str, data_dir: Path, user_id: int, book_id: int,
                     extract_id: int) -> bool:
    job = JobView(job_id=f"crosscheck:{book_id:d}", kind="crosscheck", book_id=book_id, started=time.time())
    return _start(factory, db_url, user_id, job, lambda session, user, progress: run_book_crosscheck(
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
