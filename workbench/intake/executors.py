"""Where page tasks run: in-process, a local process pool, or a Dask distributed cluster.

The coordinator (ingest) persists every outcome itself; workers only run the pure
`ocr.pipeline.run_page_task`. No home-made networking: Dask does the distribution.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from ocr.pipeline import PageOutcome, PageTask, run_page_task
from ocr.reader import Reader


@dataclass(frozen=True)
class ExecutorSpec:
    workers: int = 1  # local worker processes; 1 = in this process
    scheduler: str | None = None  # Dask scheduler address, e.g. tcp://10.0.0.5:8786

    @property
    def in_flight(self) -> int:
        # Bounded submission keeps memory flat on books with thousands of pages.
        return max(2, 2 * self.workers)


def run_tasks(
    tasks: Iterable[PageTask], spec: ExecutorSpec, reader: Reader | None = None
) -> Iterator[PageOutcome]:
    """Yield each task's outcome as it completes (``reader``: the in-process one; workers in other
    processes build theirs from each task's model files)."""
    if spec.scheduler:
        yield from _run_dask(tasks, spec)
    elif spec.workers <= 1:
        for task in tasks:
            yield run_page_task(task, reader)
    else:
        yield from _run_process_pool(tasks, spec)


def _run_process_pool(tasks: Iterable[PageTask], spec: ExecutorSpec) -> Iterator[PageOutcome]:
    # spawn: onnxruntime and OpenCV thread pools do not survive fork reliably.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=spec.workers, mp_context=context) as pool:
        pending: set[Future[PageOutcome]] = set()
        for task in tasks:
            pending.add(pool.submit(run_page_task, task))
            if len(pending) >= spec.in_flight:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in finished)
        for future in wait(pending).done:
            yield future.result()


def _run_dask(tasks: Iterable[PageTask], spec: ExecutorSpec) -> Iterator[PageOutcome]:
    from distributed import Client
    from distributed import wait as dask_wait

    with Client(spec.scheduler) as client:  # distributed.wait uses the default client
        # Keep every worker thread of the cluster busy (twice over), whatever --workers says.
        in_flight = max(spec.in_flight, 2 * sum(client.nthreads().values()))
        pending: set[Any] = set()
        for task in tasks:
            pending.add(client.submit(run_page_task, task, pure=False))
            if len(pending) >= in_flight:
                finished, pending = dask_wait(pending, return_when="FIRST_COMPLETED")
                yield from (f.result() for f in finished)
        for future in dask_wait(pending).done:
            yield future.result()
