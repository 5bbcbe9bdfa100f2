"""How batch-ingest throughput scales with workers: pages per minute for 1, 2, ... workers.

Run:  .venv/bin/python bench/ingest_throughput.py --pages 8 --workers 1 2 [--no-ocr] [--seed 4711]

Generates fresh synthetic pages once, then ingests the same files into a new SQLite database
for each configuration, through the real `workbench.intake.ingest.ingest_files`:
  * `inline`      : one process, the recognizer uses all --threads (the default `ingest`);
  * `pool-N`      : a local process pool of N workers (`ingest --workers N`), threads split;
  * `dask-N`      : a Dask LocalCluster with N single-threaded worker processes
                    (`ingest --scheduler tcp://...`), i.e. the distributed path.
Reports wall seconds, pages/minute and the speed-up over `inline`. Worker start-up (imports,
model load) is included, as a contractor would experience it on a fresh batch. On a 2-core
machine more than 2 workers cannot help; on a real cluster add machines and workers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.image.loading import iter_input_files  # noqa: E402
from samples.generator import generate_book  # noqa: E402
from workbench.books import BookIdentity  # noqa: E402
from workbench.config import Settings  # noqa: E402
from workbench.context import open_workbench  # noqa: E402
from workbench.intake.executors import ExecutorSpec  # noqa: E402
from workbench.intake.ingest import IngestOptions, ingest_files  # noqa: E402


@dataclass(frozen=True)
class Run:
    name: str
    seconds: float
    pages: int

    @property
    def pages_per_minute(self) -> float:
        return 60.0 * self.pages / self.seconds


def ingest_once(pages_dir: Path, work: Path, name: str, executor: ExecutorSpec, threads: int, ocr: bool) -> Run:
    wb = open_workbench(Settings(db_url=f"sqlite:///{work / name / 'wb.db'}", data_dir=work / name / "data"))
    files = iter_input_files(sorted(pages_dir.glob("page_*.jpg")))
    started = time.perf_counter()
    report = ingest_files(
        wb.sessions, wb.settings.data_dir, files, identity=BookIdentity("Xã Đại Lãnh", "khai_sinh", 2003, 1),
        options=IngestOptions(run_ocr=ocr, ocr_threads=threads, executor=executor),
    )
    seconds = time.perf_counter() - started
    wb.engine.dispose()
    if report.pages_failed:
        raise SystemExit(f"{name}: {report.pages_failed} pages failed: {report.errors}")
    return Run(name, seconds, report.pages_done)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads in all (split among workers)")
    parser.add_argument("--seed", type=int, default=4711)
    parser.add_argument("--no-ocr", action="store_true", help="deskew + segmentation only")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    ocr = not args.no_ocr
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        pages_dir = generate_book(work / "pages", "khai_sinh", pages=args.pages, seed=args.seed)
        runs = [ingest_once(pages_dir, work, "inline", ExecutorSpec(), args.threads, ocr)]
        for workers in args.workers:
            per_worker = max(1, args.threads // workers)
            if workers > 1:
                runs.append(ingest_once(pages_dir, work, f"pool-{workers}", ExecutorSpec(workers=workers),
                                        per_worker, ocr))
            if not args.no_dask:
                from distributed import LocalCluster

                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
                    runs.append(ingest_once(pages_dir, work, f"dask-{workers}",
                                            ExecutorSpec(scheduler=cluster.scheduler_address), per_worker, ocr))
    base = runs[0].seconds
    print(f"{args.pages} pages, recognition {'on' if ocr else 'off'}, {args.threads} CPU threads in all")
    print(f"{'configuration':<14}{'seconds':>10}{'pages/min':>12}{'speed-up':>10}")
    for run in runs:
        print(f"{run.name:<14}{run.seconds:>10.1f}{run.pages_per_minute:>12.1f}{base / run.seconds:>9.2f}x")


if __name__ == "__main__":
    main()
