"""The background-job registry (workbench.jobs) that book processing, deliverables and re-recognition share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from workbench.errors import InvalidActionError
from workbench.jobs import Job, JobRegistry, Progress


def _wait(registry: JobRegistry[str, int], owner: str, job_id: str) -> Job[str, int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = registry.get(owner, job_id)
        if job is not None and job.finished and not job.running:
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def _gated(result: int = 7) -> tuple[threading.Event, threading.Event, Callable[[Progress], int]]:
    """Work that reports 1/3, signals `reported`, then waits for `release` before returning `result`."""
    reported, release = threading.Event(), threading.Event()

    def work(progress: Progress) -> int:
        progress(1, 3)
        reported.set()
        assert release.wait(10)
        return result

    return reported, release, work


def test_start_progress_and_finish_with_the_result() -> None:
    registry: JobRegistry[str, int] = JobRegistry()
    reported, release, work = _gated(result=42)
    started = registry.start("db", "export:1", "zip", work, thread_name="test-job")
    assert started is not None and started.running and not started.finished
    assert (started.owner, started.job_id, started.meta) == ("db", "export:1", "zip")
    assert reported.wait(10)
    running = registry.get("db", "export:1")
    assert running is not None and (running.done, running.total) == (1, 3)
    assert running.running and not running.finished and running.result is None
    assert registry.is_running("db", "export:1")
    release.set()
    job = _wait(registry, "db", "export:1")
    assert job.result == 42 and job.error is None and (job.done, job.total) == (1, 3)
    assert not registry.is_running("db", "export:1")


def test_a_failure_is_kept_with_its_message_and_type() -> None:
    registry: JobRegistry[str, int] = JobRegistry()

    def work(progress: Progress) -> int:
        progress(2, 5)
        raise InvalidActionError("broken", "Không làm được.")

    assert registry.start("db", "job", "meta", work, thread_name="test-job") is not None
    job = _wait(registry, "db", "job")
    assert job.finished and job.result is None and (job.done, job.total) == (2, 5)
    assert isinstance(job.error, InvalidActionError)
    assert str(job.error) == "broken" and job.error.message_vi == "Không làm được."
    assert job.error.__traceback__ is None  # the work's frames are not kept alive by the job


def test_one_job_per_key_at_a_time() -> None:
    registry: JobRegistry[str, int] = JobRegistry()
    reported, release, work = _gated(result=1)
    assert registry.start("db", "book:1", "first", work, thread_name="test-job") is not None
    assert reported.wait(10)
    # The same key is refused while its thread runs, and the running job is left alone...
    assert registry.start("db", "book:1", "second", lambda progress: 2, thread_name="test-job") is None
    running = registry.get("db", "book:1")
    assert running is not None and running.meta == "first"
    # ...while another id, or the same id of another owner, starts.
    assert registry.start("db", "book:2", "other", lambda progress: 3, thread_name="test-job") is not None
    assert registry.start("other-db", "book:1", "other", lambda progress: 4, thread_name="test-job") is not None
    release.set()
    assert _wait(registry, "db", "book:1").result == 1
    # Once finished, the key may run again; the new job replaces the old one.
    assert registry.start("db", "book:1", "again", lambda progress: 5, thread_name="test-job") is not None
    again = _wait(registry, "db", "book:1")
    assert (again.meta, again.result) == ("again", 5)


def test_jobs_are_listed_per_owner_newest_first_and_old_finished_ones_dropped() -> None:
    registry: JobRegistry[str, int] = JobRegistry(keep_finished=2)
    for number in range(4):
        assert registry.start("alice", f"job:{number}", str(number), lambda progress, n=number: n,
                              thread_name="test-job") is not None
        _wait(registry, "alice", f"job:{number}")
        time.sleep(0.002)  # distinct start times
    assert registry.start("bob", "job:0", "b", lambda progress: 0, thread_name="test-job") is not None
    # Pruning happens at start: the 4th start kept the 2 newest finished ones besides itself.
    assert [j.job_id for j in registry.jobs("alice")] == ["job:3", "job:2", "job:1"]
    assert [j.job_id for j in registry.jobs("bob")] == ["job:0"]
    assert registry.jobs("nobody") == [] and registry.get("nobody", "job:0") is None


def test_without_a_limit_every_finished_job_is_kept() -> None:
    registry: JobRegistry[str, int] = JobRegistry()
    for number in range(25):
        assert registry.start("db", f"job:{number}", "m", lambda progress: 0, thread_name="test-job") is not None
        _wait(registry, "db", f"job:{number}")
    assert len(registry.jobs("db")) == 25
