"""Province-scale benchmark: the hot queries of the workbench on 1.46 M synthetic records.

Run:
  .venv/bin/python bench/scale.py --backend sqlite [--records 1460000] [--db-url sqlite:////tmp/scale.db]
  .venv/bin/python bench/scale.py --backend postgresql --db-url postgresql+psycopg://USER:PW@HOST/DB
  add --reuse to keep an already seeded database (it is still migrated to head, so new indexes land),
  --markdown FILE to write the results table and EXPLAIN plans as Markdown (bench/SCALE.md quotes them).

The database is seeded by bench/scale_seed.py (schema from the Alembic migrations; see there for
the shape: 1 province, 11 districts, 111 communes, ~27.5 k books, records with all their field
rows, statuses and confidences mixed). The PostgreSQL database given is WIPED before seeding
(use a database of its own, never the test database). DB files and the data directory go under
/tmp by default, never in the repository.

Measured, as the median of --runs runs after --warmup runs (each in its own session, rolled
back, so next_record's claim does not pile up):
  * next-in-queue for a commune official: workbench.review.queue.next_record (target <= 50 ms);
    also for a district official (covers ~10 communes; no target, shown for sizing);
  * the supervisor's low-confidence queue page (200 rows, threshold 0.6):
    workbench.supervision.supervision.low_confidence_queue, district and province supervisor (<= 200 ms);
  * the supervisor's flagged queue page (no target);
  * Phụ lục 01 for the whole province: workbench.deliverables.report.progress_report (<= 2 s);
  * export of the 500-record book: workbench.deliverables.exports.package.export_book_xlsx, and
    export_book_zip (500 PDFs from one real sample page image; one run, no target).
Wall time is what a user waits; "CPU" is this process's CPU time plus (PostgreSQL) the server
backend's, read from /proc/PID/schedstat: on a shared, overloaded machine it is the fairer
estimate of the unloaded wall time (it leaves out waiting for a core, and disk waits).
For each query operation the slowest SQL statement it sent is EXPLAINed (SQLite: EXPLAIN QUERY
PLAN; PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)) with the parameters it was sent with.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_seed import PROVINCE_RECORDS, SeedPlan, SeedSummary, reset_postgres, seed  # noqa: E402
from models import Record, User  # noqa: E402
from workbench.db import make_engine, migrate, session_factory  # noqa: E402
from workbench.deliverables.exports.package import export_book_xlsx, export_book_zip  # noqa: E402
from workbench.deliverables.report import local_day, progress_report  # noqa: E402
from workbench.review.queue import next_record  # noqa: E402
from workbench.supervision.supervision import flagged_queue, low_confidence_queue  # noqa: E402

LOW_CONFIDENCE_THRESHOLD = 0.6


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    seconds: float


@dataclass
class Measurement:
    name: str
    target_ms: float | None
    runs_ms: list[float]
    cpu_ms: list[float]  # this process + the PostgreSQL backend serving it: less noisy than wall time
    slowest: Statement | None = None
    statements: list[Statement] = field(default_factory=list)  # all of the last run
    plan: str = ""
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def verdict(self) -> str:
        if self.target_ms is None:
            return "-"
        return "pass" if self.median_ms <= self.target_ms else "FAIL"

    @property
    def cpu_verdict(self) -> str:
        if self.target_ms is None:
            return "-"
        return "pass" if self.median_cpu_ms <= self.target_ms else "FAIL"


@dataclass
class Context:
    engine: Engine
    factory: sessionmaker[Session]
    summary: SeedSummary
    data_dir: Path
    runs: int
    warmup: int
    results: list[Measurement] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after
    zip_export: bool = True


@contextmanager
def capture(engine: Engine) -> Iterator[list[Statement]]:
    """Every SQL statement sent inside the block, with its execute time."""
    found: list[Statement] = []
    starts: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        starts.append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        found.append(Statement(statement, parameters, time.perf_counter() - starts.pop()))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def explain(engine: Engine, statement: Statement) -> str:
    if engine.dialect.name == "sqlite":
        prefix = "EXPLAIN QUERY PLAN "
    else:
        prefix = "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement.sql, statement.parameters).all()
        connection.rollback()
    if engine.dialect.name == "sqlite":  # (id, parent, notused, detail): indent by depth
        depth: dict[int, int] = {0: 0}
        lines = []
        for node, parent, _unused, detail in rows:
            depth[node] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node] - 1) + detail)
        return "\n".join(lines)
    return "\n".join(str(row[0]) for row in rows)


def backend_cpu_seconds(session: Session) -> float:
    """CPU time so far of the PostgreSQL server process behind this session (0 on SQLite, which runs
    in this process). /proc/PID/schedstat counts nanoseconds on CPU; the server is on this machine."""
    driver = session.connection().connection.driver_connection
    pid = getattr(getattr(driver, "info", None), "backend_pid", None)
    if pid is None:
        return 0.0
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0  # server on another machine: client CPU only


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None, f"seeded user {username} is missing"
    return found


def measure(ctx: Context, name: str, target_ms: float | None, action: Callable[[Session], object],
            runs: int | None = None, warmup: int | None = None, explain_slowest: bool = True) -> Measurement:
    """Median wall time of `action` in a fresh session that is rolled back afterwards."""
    runs = runs or ctx.runs
    warmup = ctx.warmup if warmup is None else warmup
    timings: list[float] = []
    cpu: list[float] = []
    slowest: Statement | None = None
    statements: list[Statement] = []
    for attempt in range(warmup + runs):
        with ctx.factory() as session, capture(ctx.engine) as captured:
            server_before = backend_cpu_seconds(session)
            cpu_before = time.process_time()
            started = time.perf_counter()
            action(session)
            elapsed = (time.perf_counter() - started) * 1000
            used = (time.process_time() - cpu_before + backend_cpu_seconds(session) - server_before) * 1000
            session.rollback()
        statements = captured
        if attempt >= warmup:
            timings.append(elapsed)
            cpu.append(used)
            selects = [s for s in statements if s.sql.lstrip().upper().startswith("SELECT")]
            if selects:
                candidate = max(selects, key=lambda s: s.seconds)
                if slowest is None or candidate.seconds > slowest.seconds:
                    slowest = candidate
    result = Measurement(name, target_ms, timings, cpu, slowest, statements)
    if explain_slowest and slowest is not None:
        result.plan = explain(ctx.engine, slowest)
    ctx.results.append(result)
    print(f"  {name}: median {result.median_ms:.1f} ms wall, {result.median_cpu_ms:.1f} ms CPU over {runs} runs "
          f"({result.verdict})", flush=True)
    return result


def run_benchmarks(ctx: Context) -> None:
    ctx.load.append(os.getloadavg()[0])
    summary = ctx.summary
    with ctx.factory() as session:
        official = user(session, summary.official)
        district_official = user(session, summary.district_official)
        district_supervisor = user(session, summary.district_supervisor)
        province_supervisor = user(session, summary.province_supervisor)
    today = local_day(datetime.now(UTC))
    measure(ctx, "next_record, commune official", 50, lambda s: next_record(s, official))
    measure(ctx, "next_record, district official (10 communes)", None, lambda s: next_record(s, district_official))
    measure(ctx, "low_confidence_queue, district supervisor", 200,
            lambda s: low_confidence_queue(s, district_supervisor, LOW_CONFIDENCE_THRESHOLD))
    measure(ctx, "low_confidence_queue, province supervisor", 200,
            lambda s: low_confidence_queue(s, province_supervisor, LOW_CONFIDENCE_THRESHOLD))
    measure(ctx, "flagged_queue, province supervisor", None, lambda s: flagged_queue(s, province_supervisor))
    measure(ctx, "progress_report (Phụ lục 01), whole province", 2000,
            lambda s: progress_report(s, province_supervisor, today),
            runs=max(3, ctx.runs // 2))
    if ctx.engine.dialect.name == "postgresql":
        # Parallel workers' CPU is not in the CPU column; without them the CPU time is complete.
        measure(ctx, "progress_report, PostgreSQL without parallel workers", 2000,
                lambda s: (s.execute(text("SET max_parallel_workers_per_gather = 0")),
                           progress_report(s, province_supervisor, today)),
                runs=max(3, ctx.runs // 2))
    with tempfile.TemporaryDirectory(prefix="scale_export_") as out:
        size = summary.export_records
        xlsx = measure(ctx, f"export_book_xlsx, {size}-record book", None,
                       lambda s: export_book_xlsx(s, summary.export_book_id, Path(out) / "book.xlsx"),
                       runs=min(3, ctx.runs), warmup=min(1, ctx.warmup))
        xlsx.note = f"{(Path(out) / 'book.xlsx').stat().st_size // 1024} KiB"
        if not ctx.zip_export:
            ctx.load.append(os.getloadavg()[0])
            return
        zipped = measure(ctx, f"export_book_zip, {size} PDFs + xlsx", None,
                         lambda s: export_book_zip(s, ctx.data_dir, summary.export_book_id, Path(out) / "book.zip"),
                         runs=1, warmup=0)
        zipped.note = f"{(Path(out) / 'book.zip').stat().st_size // (1024 * 1024)} MiB"
    ctx.load.append(os.getloadavg()[0])


def markdown(ctx: Context, backend: str, seeded: str) -> str:
    s = ctx.summary
    lines = [
        f"### {backend}: {s.records:,} records, {s.fields:,} field values",
        "",
        f"{s.books:,} books, {s.pages:,} pages, {s.units} units, {s.users} users. {seeded} "
        f"Load average (1 min) {' → '.join(f'{x:.1f}' for x in ctx.load)} on {os.cpu_count()} cores.",
        "",
        "| operation | target | wall median ms | wall min–max ms | CPU median ms | wall | CPU | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in ctx.results:
        target = f"≤ {m.target_ms:g} ms" if m.target_ms is not None else "-"
        lines.append(f"| {m.name} | {target} | {m.median_ms:.1f} | {min(m.runs_ms):.0f}–{max(m.runs_ms):.0f} "
                     f"| {m.median_cpu_ms:.1f} | {m.verdict} | {m.cpu_verdict} | {m.note} |")
    lines += ["", "Slowest SQL statement of each operation and its plan:", ""]
    for m in ctx.results:
        if m.slowest is None or not m.plan:
            continue
        lines += [f"#### {m.name} ({m.slowest.seconds * 1000:.1f} ms)", "", "```sql", shorten_sql(m.slowest.sql), "```",
                  "", "```", m.plan, "```", ""]
    return "\n".join(lines)


_PLACEHOLDER_RUN = re.compile(r"(\?|%\(\w+\)s|\$\d+)(?:, (?:\?|%\(\w+\)s|\$\d+)){4,}")


def shorten_sql(sql: str) -> str:
    """Long IN lists of bound parameters collapsed to 'first, …' so the notes stay readable."""
    return _PLACEHOLDER_RUN.sub(lambda m: f"{m.group(1)}, … ({m.group(0).count(', ') + 1} parameters)", sql.strip())


def seeded_summary(engine: Engine, factory: sessionmaker[Session], summary_file: Path) -> SeedSummary:
    saved = json.loads(summary_file.read_text(encoding="utf-8"))
    with factory() as session:  # the database must still hold what the summary says
        count = session.scalar(select(func.count()).select_from(Record))
    if count != saved["records"]:
        raise SystemExit(f"{summary_file} says {saved['records']} records, the database has {count}: reseed")
    return SeedSummary(**saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--records", type=int, default=PROVINCE_RECORDS)
    parser.add_argument("--db-url", help="default: sqlite:////tmp/workbench_scale/<records>.db")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/workbench_scale/data"))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--export-records", type=int, default=500)
    parser.add_argument("--no-zip", action="store_true", help="skip the (slow, image-bound) ZIP export")
    parser.add_argument("--seed-revision", default="head",
                        help="migrate only this far before seeding (e.g. 0003: a baseline without later indexes)")
    parser.add_argument("--markdown", type=Path, help="write the results as Markdown here")
    args = parser.parse_args(argv)

    url = args.db_url or f"sqlite:////tmp/workbench_scale/{args.records}.db"
    if args.backend == "sqlite" and not url.startswith("sqlite"):
        parser.error("--backend sqlite needs a sqlite:/// URL")
    if args.backend == "postgresql" and not url.startswith("postgresql"):
        parser.error("--backend postgresql needs --db-url postgresql+psycopg://...")
    engine = make_engine(url)
    summary_file = Path(tempfile.gettempdir()) / "workbench_scale" / f"{args.backend}_{args.records}.summary.json"
    if args.reuse and summary_file.exists():
        started = time.perf_counter()
        migrate(engine)  # new index migrations land on the seeded data
        seeded = f"Reused the seeded database (migrated to head in {time.perf_counter() - started:.1f} s)."
        summary = seeded_summary(engine, session_factory(engine), summary_file)
    else:
        if args.backend == "postgresql":
            reset_postgres(engine)
        else:
            Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        print(f"Seeding {args.records:,} records into {engine.url.render_as_string()} ...", flush=True)
        summary = seed(engine, SeedPlan(records=args.records, export_records=args.export_records), args.data_dir,
                       revision=args.seed_revision)
        engine = make_engine(url)  # the seeder closed its raw connections
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        summary_file.write_text(json.dumps(summary.to_json()), encoding="utf-8")
        seeded = f"Seeded (schema at revision {args.seed_revision}) in {summary.seconds:.0f} s."
    print(seeded, flush=True)
    ctx = Context(engine, session_factory(engine), summary, args.data_dir, args.runs, args.warmup,
                  zip_export=not args.no_zip)
    run_benchmarks(ctx)
    report = markdown(ctx, args.backend, seeded)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    return 0 if all(m.verdict != "FAIL" for m in ctx.results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
