"""Background jobs that outlive a Streamlit rerun: one registry, one thread per job, in this server process.

A job is named by its owner and its id. The owner groups jobs for listing and retention (a database URL,
or a (database URL, user id) pair); the id names the work within it (``"export:3:zip"``, a book id).
At most one job per (owner, id) runs at a time: starting one whose thread is still alive is refused
(`JobRegistry.start` returns None) and leaves the running job alone.

The work is a callable that gets a ``progress(done, total)`` reporter and returns its result. When it
returns, the result is kept on the job; when it raises, the exception is kept instead (its message, its
type, a service error's Vietnamese message), so whoever reads the job later can tell why it stopped. The
registry does not log: the work logs (or audits) its own failure before raising, in its own words.

Readers get frozen `Job` snapshots, never the record the thread keeps writing. Jobs are kept for this
server's life, so a reload or a second tab finds them again; a server restart loses the list, so
anything that must survive one lives in the database or in files.

No Streamlit here: the registry is service-side plumbing; pages reach it through the services and the
thin helpers in ``workbench/ui/``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

Progress = Callable[[int, int], None]  # progress(done, total)
M = TypeVar("M")  # what the caller says about the job (book, format, model version, ...)
R = TypeVar("R")  # what the work returns


@dataclass(frozen=True)
class Job(Generic[M, R]):
    """A snapshot of one job, taken under the registry's lock."""

    owner: Hashable
    job_id: str
    meta: M
    started: float  # time.time() at start
    done: int = 0
    total: int = 0
    finished: bool = False  # the work returned (result) or raised (error)
    result: R | None = None
    error: Exception | None = None
    running: bool = False  # its thread was alive when the snapshot was taken (it ends just after `finished`)


@dataclass
class _Entry(Generic[M, R]):
    job: Job[M, R]
    thread: threading.Thread


class JobRegistry(Generic[M, R]):
    """The jobs of one kind (book processing, deliverables, re-recognition) in this server process."""

    def __init__(self, *, keep_finished: int | None = None) -> None:
        """`keep_finished`: finished jobs kept per owner, newest first (None: all)."""
        self._keep_finished = keep_finished
        self._lock = threading.Lock()
        self._jobs: dict[Hashable, dict[str, _Entry[M, R]]] = {}

    def start(self, owner: Hashable, job_id: str, meta: M, work: Callable[[Progress], R], *,
              thread_name: str) -> Job[M, R] | None:
        """Run `work` in a daemon thread; None (nothing started) while the same job's thread is alive."""
        with self._lock:
            jobs = self._jobs.setdefault(owner, {})
            current = jobs.get(job_id)
            if current is not None and current.thread.is_alive():
                return None

            def progress(done: int, total: int) -> None:
                self._update(entry, done=done, total=total)

            def run() -> None:
                result: R | None = None
                error: Exception | None = None
                try:
                    result = work(progress)
                except Exception as exc:  # noqa: BLE001 — kept on the job; the work logged or audited it
                    error = _without_tracebacks(exc)
                finally:
                    self._update(entry, finished=True, result=result, error=error)

            thread = threading.Thread(target=run, name=thread_name, daemon=True)
            entry: _Entry[M, R] = _Entry(Job(owner, job_id, meta, time.time()), thread)
            jobs[job_id] = entry
            if self._keep_finished is not None:
                finished = sorted((e for e in jobs.values() if e.job.finished), key=lambda e: e.job.started)
                for old in finished[: max(len(finished) - self._keep_finished, 0)]:
                    del jobs[old.job.job_id]
            thread.start()
            return self._snapshot(entry)

    def get(self, owner: Hashable, job_id: str) -> Job[M, R] | None:
        """The latest job of that id (running or finished), or None."""
        with self._lock:
            entry = self._jobs.get(owner, {}).get(job_id)
            return None if entry is None else self._snapshot(entry)

    def jobs(self, owner: Hashable) -> list[Job[M, R]]:
        """The owner's jobs, newest first."""
        with self._lock:
            entries = sorted(self._jobs.get(owner, {}).values(), key=lambda e: e.job.started, reverse=True)
            return [self._snapshot(e) for e in entries]

    def is_running(self, owner: Hashable, job_id: str) -> bool:
        """True while that job's thread is alive."""
        with self._lock:
            entry = self._jobs.get(owner, {}).get(job_id)
            return entry is not None and entry.thread.is_alive()

    def _update(self, entry: _Entry[M, R], **changes: object) -> None:
        with self._lock:
            entry.job = replace(entry.job, **changes)  # type: ignore[arg-type]

    @staticmethod
    def _snapshot(entry: _Entry[M, R]) -> Job[M, R]:
        return replace(entry.job, running=entry.thread.is_alive())


def _without_tracebacks(exc: Exception) -> Exception:
    """The exception and its causes without their frames: a kept job must not keep the work's locals alive."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return exc
