"""Load on one province server: N simulated officials verify records at once against ONE running app.

Each simulated official is its own Chromium browser context (its own login and Streamlit session) in
one headless Debian chromium, driven by Playwright's async API, keyboard only, at the office screen
size (1366x768). Per record it does what an official does: the record opens with the first field
focused, Enter walks every field (so none is left unvisited), the name is corrected on the way
(Ctrl+A, type), then Ctrl+Enter approves. If the app still asks for a confirmation (issue #15:
unvisited amber/red fields, validator errors) Tab, Enter confirms and the sample is marked.

Measured per approval: "approve pressed -> next record ready", from the key that approves (Ctrl+Enter,
or the confirming Enter) until the next record's form is rendered with its first field focused (the
focused input belongs to another record-version token than before). Reported per N: p50, p95, max,
records/min, and CPU: the Streamlit server process, the PostgreSQL processes and the machine, each in
cores used over the run (from /proc), with the load average beside them.

The database: a scratch PostgreSQL database given by --db, whose public schema is DROPPED and
re-created (never point it at a real database). Seeded through the real services: one unit, one
official per simulated official (all in that unit), and volumes of the bundled khai_sinh sample pages
ingested without OCR (every field red), enough for every run.

    WORKBENCH_BENCH_PG=$(bash .ci/postgres.sh | sed 's/workbench_test$/workbench_bench/')  # + CREATE DATABASE
    .venv/bin/python bench/verify_load.py --db "$WORKBENCH_BENCH_PG" --officials 1 5 10 20 --records 5

The browsers run on the same machine as the server, so at high N they compete with it for the CPU:
the numbers are an upper bound on what a server alone would show. Everything here is synthetic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/verify_load.py`
    sys.path.insert(0, str(ROOT))

from ocr.image.loading import iter_input_files  # noqa: E402
from workbench.accounts.auth import create_user  # noqa: E402
from workbench.books import BookIdentity, get_or_create_unit  # noqa: E402
from workbench.config import Settings  # noqa: E402
from workbench.context import open_workbench  # noqa: E402
from workbench.db import make_engine, transaction  # noqa: E402
from workbench.intake.ingest import IngestOptions, ingest_files  # noqa: E402

SAMPLE_PAGES = sorted((ROOT / "samples" / "books" / "khai_sinh").glob("page_*.jpg"))
RECORDS_PER_VOLUME = 30  # 3 sample pages x 10 rows
UNIT = "Xã Thử Tải"
# The simulated officials' accounts live in a scratch database this run seeds: a fresh random
# password each run (no credential in the repository, tests/test_security.py checks).
PASSWORD = secrets.token_urlsafe(12)
FIRST_LABEL = "Số"  # the first khai_sinh column
FIELDS = 12  # khai_sinh columns
NAME_INDEX = 2  # Họ và tên người được khai sinh, third field
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1366, "height": 768}
# The focused input is the first field of a form whose record-version token differs from `old`.
READY_JS = """([old, label]) => {
  const el = document.activeElement;
  if (!el || el.getAttribute('aria-label') !== label) return null;
  const box = el.closest('[class*="st-key-fld-"]');
  const m = box && box.className.match(/st-key-fld-(\\d+-\\d+)-0(\\s|$)/);
  return m && m[1] !== old ? m[1] : null;
}"""
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long", "Mai", "Nam")
DIALOG_JS = "() => document.querySelector('[role=dialog]') !== null"


@dataclass
class Sample:
    official: int
    seconds: float  # approve pressed -> next record ready
    confirmed_dialog: bool  # the app asked for a confirmation first


@dataclass
class RunResult:
    officials: int
    approvals: int
    p50_s: float
    p95_s: float
    max_s: float
    dialogs: int
    wall_s: float
    records_per_min: float
    server_cores: float  # Streamlit process CPU seconds / wall seconds
    postgres_cores: float
    machine_cores_busy: float  # all CPUs, from /proc/stat
    load_avg_1m_end: float
    reruns_per_approval: float  # browser -> server WebSocket messages per approval
    errors: list[str] = field(default_factory=list)


@dataclass
class Gate:
    """Every official logs in and warms up first; the clock starts when the last one is ready."""

    expected: int
    arrived: int = 0
    all_here: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    messages: int = 0  # WebSocket messages the browsers sent while measured (each asks for a rerun)

    def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_here.set()


# --- seeding ---------------------------------------------------------------------------------------


def seed(db_url: str, data_dir: Path, officials: int, records: int) -> None:
    """Fresh schema, one unit, `officials` officials, >= `records` no-OCR records."""
    engine = make_engine(db_url)
    if engine.dialect.name != "postgresql":
        raise SystemExit("--db must be a PostgreSQL URL (a scratch database: its schema is dropped)")
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)
    wb = open_workbench(Settings(db_url=db_url, data_dir=data_dir))  # runs the migrations
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, UNIT)
        for n in range(1, officials + 1):
            create_user(session, username(n), PASSWORD, "official", [UNIT], full_name=f"Cán bộ tải {n}")
    volumes = -(-records // RECORDS_PER_VOLUME)
    for volume in range(1, volumes + 1):
        identity = BookIdentity(UNIT, "khai_sinh", 2003, volume)
        report = ingest_files(wb.sessions, data_dir, list(iter_input_files(SAMPLE_PAGES)), identity=identity,
                              options=IngestOptions(run_ocr=False))
        if report.errors:
            raise SystemExit(f"seeding failed: {report.errors}")
        print(f"seeded volume {volume}/{volumes}: {report.records_created} records", flush=True)
    wb.engine.dispose()


def corrected_name(n: int, record_no: int) -> str:
    """A synthetic name without digits (digits in a name would ask for a confirmation)."""
    return f"{SURNAMES[n % len(SURNAMES)]} Văn {GIVEN[record_no % len(GIVEN)]}"


def username(n: int) -> str:
    return f"canbo_tai_{n:02d}"


# --- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def streamlit_server(db_url: str, data_dir: Path, log_path: Path) -> Iterator[tuple[str, int]]:
    """One app, as deployed (headless, no file watcher); yields (url, pid)."""
    port = free_port()
    env = dict(os.environ, WORKBENCH_DB=db_url, WORKBENCH_DATA=str(data_dir))
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"Streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


# --- CPU accounting (/proc) ------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process and its reaped children, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += process_cpu_seconds(int(proc.name))
            except OSError:
                continue
    return total


def machine_busy_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    parts = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- one simulated official ------------------------------------------------------------------------


async def log_in(page: object, url: str, user: str, timeout_ms: int) -> str:
    """Log in with the keyboard; returns the first record's token once its first field is focused."""
    await page.goto(url)  # type: ignore[attr-defined]
    login = page.get_by_label("Tên đăng nhập")  # type: ignore[attr-defined]
    await login.wait_for()
    await login.focus()
    await page.keyboard.type(user)  # type: ignore[attr-defined]
    await page.keyboard.press("Tab")  # type: ignore[attr-defined]
    await page.keyboard.type(PASSWORD)  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]
    return await wait_ready(page, "", timeout_ms)


async def wait_ready(page: object, old_token: str, timeout_ms: int) -> str:
    handle = await page.wait_for_function(READY_JS, arg=[old_token, FIRST_LABEL], polling=25,  # type: ignore[attr-defined]
                                          timeout=timeout_ms)
    return str(await handle.json_value())


async def verify_one(page: object, token: str, n: int, record_no: int, key_delay_ms: int,
                     timeout_ms: int) -> tuple[Sample, str]:
    """Walk every field, correct the name, approve; returns the sample and the next record's token."""
    keyboard = page.keyboard  # type: ignore[attr-defined]
    for index in range(FIELDS - 1):
        if index == NAME_INDEX:
            await keyboard.press("Control+a")
            await keyboard.type(corrected_name(n, record_no), delay=key_delay_ms)
        await keyboard.press("Enter")
    started = time.perf_counter()
    await keyboard.press("Control+Enter")
    dialog = False
    deadline = time.monotonic() + timeout_ms / 1000
    while True:  # either the next record arrives or a confirmation is asked
        ready = await page.evaluate(READY_JS, [token, FIRST_LABEL])  # type: ignore[attr-defined]
        if ready:
            return Sample(n, time.perf_counter() - started, dialog), str(ready)
        if not dialog and await page.evaluate(DIALOG_JS):  # type: ignore[attr-defined]
            if record_no == 0 and n == 1:  # what the app asked about, once, for the report
                text = await page.locator("[role=dialog]").inner_text()  # type: ignore[attr-defined]
                print(f"confirmation asked: {' | '.join(text.splitlines())[:300]}", flush=True)
            await page.wait_for_function(  # type: ignore[attr-defined]
                "() => document.activeElement?.closest('.st-key-verify-confirm-back') !== null", timeout=timeout_ms)
            await keyboard.press("Tab")
            started = time.perf_counter()  # the confirming Enter is the approve press now
            await keyboard.press("Enter")
            dialog = True
        if time.monotonic() > deadline:
            raise TimeoutError(f"record {record_no} did not move on within {timeout_ms / 1000:.0f} s")
        await asyncio.sleep(0.02)


async def official_session(browser: object, url: str, n: int, records: int, warmup: int, key_delay_ms: int,
                           think_s: float, timeout_ms: int, gate: Gate, shots: Path | None
                           ) -> tuple[list[Sample], list[str]]:
    context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    # Every message the browser sends on Streamlit's WebSocket asks the server for a script rerun
    # (a form submit, a widget change, the draft component's typing): counted while measured.
    sent = {"measured": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: _count(sent, gate)))
    samples: list[Sample] = []
    errors: list[str] = []
    arrived = False
    try:
        token = await log_in(page, url, username(n), timeout_ms)
        for record_no in range(warmup):  # caches, first imports: not measured
            _, token = await verify_one(page, token, n, -record_no - 1, key_delay_ms, timeout_ms)
        gate.arrive()
        arrived = True
        await gate.go.wait()
        for record_no in range(records):
            try:
                sample, token = await verify_one(page, token, n, record_no, key_delay_ms, timeout_ms)
            except TimeoutError as exc:  # a stuck record is reported; the official reloads (F5) and goes on
                errors.append(f"official {n}: {exc}")
                if shots is not None:
                    await page.screenshot(path=str(shots / f"verify_load_stuck_{n:02d}_{record_no}.png"))
                await page.reload()
                token = await wait_ready(page, "", timeout_ms)
                continue
            samples.append(sample)
            if shots is not None and n == 1 and record_no == 0:
                await page.screenshot(path=str(shots / "verify_load_next_record.png"))
            await asyncio.sleep(think_s)  # the official looks at the new record
    except Exception as exc:  # noqa: BLE001 (one stuck official is reported, the others go on)
        errors.append(f"official {n}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        if shots is not None:
            await page.screenshot(path=str(shots / f"verify_load_error_{n:02d}.png"))
    finally:
        if not arrived:
            gate.arrive()
        await context.close()
    gate.messages += sent["measured"]
    return samples, errors


def _count(sent: dict[str, int], gate: Gate) -> None:
    if gate.go.is_set():
        sent["measured"] += 1


async def run_level(chromium: str, url: str, server_pid: int, officials: Sequence[int], records: int, warmup: int,
                    key_delay_ms: int, think_s: float, timeout_ms: int, shots: Path | None) -> RunResult:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            gate = Gate(len(officials))
            tasks = [asyncio.create_task(official_session(browser, url, n, records, warmup, key_delay_ms, think_s,
                                                          timeout_ms, gate, shots)) for n in officials]
            await gate.all_here.wait()
            cpu0 = (process_cpu_seconds(server_pid), postgres_cpu_seconds(), machine_busy_seconds())
            wall0 = time.perf_counter()
            gate.go.set()
            results = await asyncio.gather(*tasks)
            wall = time.perf_counter() - wall0
            cpu1 = (process_cpu_seconds(server_pid), postgres_cpu_seconds(), machine_busy_seconds())
        finally:
            await browser.close()
    samples = [s for found, _ in results for s in found]
    errors = [e for _, found in results for e in found]
    times = sorted(s.seconds for s in samples)
    return RunResult(
        officials=len(officials), approvals=len(samples), p50_s=_pct(times, 50), p95_s=_pct(times, 95),
        max_s=times[-1] if times else float("nan"), dialogs=sum(s.confirmed_dialog for s in samples),
        wall_s=wall, records_per_min=60 * len(samples) / wall if wall else 0.0,
        server_cores=(cpu1[0] - cpu0[0]) / wall, postgres_cores=(cpu1[1] - cpu0[1]) / wall,
        machine_cores_busy=(cpu1[2] - cpu0[2]) / wall, load_avg_1m_end=os.getloadavg()[0],
        reruns_per_approval=gate.messages / len(samples) if samples else float("nan"), errors=errors,
    )


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- server-side profile: one approve -> next record cycle, in process --------------------------------


def profile_services(db_url: str, data_dir: Path, cycles: int, top: int = 25) -> dict[str, float]:
    """What the server does between "approve pressed" and "next record rendered", without the browser:
    the verification page's service and rendering calls, in the order a rerun makes them, timed per step
    (median ms over `cycles` approvals by official 1) and under cProfile (top functions printed)."""
    import cProfile
    import pstats
    from collections import defaultdict

    from sqlalchemy import select

    from models import User
    from workbench.review.approval_checks import approval_concerns
    from workbench.review.drafts import load_draft
    from workbench.review.progress import my_progress
    from workbench.review.queue import next_record
    from workbench.review.record_view import get_record_view
    from workbench.review.review import ReviewAction, save_record
    from workbench.scope import units_read_once
    from workbench.ui.rendering import crop_urls, load_page, page_plain_jpeg

    wb = open_workbench(Settings(db_url=db_url, data_dir=data_dir), run_migrations=False)
    with wb.sessions() as session:
        user = session.scalars(select(User).where(User.username == username(1))).one()
        session.expunge(user)
    steps: dict[str, list[float]] = defaultdict(list)

    def step(name: str, fn: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        if name.startswith("db:"):  # a service call: its own transaction, as each `ctx.session()` of the page
            with transaction(wb.sessions) as session:
                result = fn(session, *args)
        else:
            result = fn(*args)
        steps[name].append(1000 * (time.perf_counter() - t0))
        return result

    def rerun_render() -> object:
        """One rerun of app_pages/verify.py for the record the user holds (what the browser waits for)."""
        claim = step("db:next_record", next_record, user)
        if claim is None:
            return None
        view = step("db:get_record_view", get_record_view, user, claim.record_id)
        step("db:load_draft", load_draft, user, view.record_id)
        step("db:my_progress", my_progress, user)
        step("image:load_page", load_page, data_dir, view.image_path)
        step("image:page_plain_jpeg", page_plain_jpeg, str(data_dir), view.image_path, 0)
        step("image:load_page(form)", load_page, data_dir, view.image_path)
        step("image:crop_urls", crop_urls, str(data_dir), view.image_path, tuple(f.cell_bbox for f in view.fields), 0)
        return view

    profiler = cProfile.Profile()
    done = 0
    view = rerun_render()
    while view is not None and done < cycles:
        profiler.enable()
        t0, cpu0 = time.perf_counter(), time.process_time()
        # The submit run finds the record and saves before drawing anything (the form comes first, issue
        # #15); st.rerun() renders the next one. Each run reads the user's units once (units_read_once).
        with units_read_once():
            claim = step("db:next_record", next_record, user)
            if claim is not None:
                step("db:get_record_view", get_record_view, user, claim.record_id)
            typed = {f.key: f.value_to_show for f in view.fields}
            typed["full_name"] = corrected_name(1, done)
            step("checks:approval_concerns", approval_concerns, view.fields, typed, {f.key for f in view.fields})
            step("db:save_record(approve)", save_record, user, view.record_id, view.version, typed,
                 ReviewAction.APPROVE)
        with units_read_once():
            view = rerun_render()
        steps["= cycle total"].append(1000 * (time.perf_counter() - t0))
        steps["= cycle CPU (this process)"].append(1000 * (time.process_time() - cpu0))
        profiler.disable()
        done += 1
    wb.engine.dispose()
    print(f"\nserver-side cycle (approve run + next-record run), {done} approvals, median ms per step:")
    medians = {name: statistics.median(values) for name, values in steps.items()}
    for name, ms in sorted(medians.items(), key=lambda item: -item[1]):
        print(f"  {name:32s} {ms:8.1f}  (x{len(steps[name]) // max(done, 1)} per cycle)")
    if top:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)
    return medians


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SystemExit("Debian chromium not found (apt-get install chromium)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("WORKBENCH_BENCH_PG", ""),
                        help="PostgreSQL URL of a SCRATCH database (its schema is dropped and re-created)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/verify_load_data"))
    parser.add_argument("--officials", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--records", type=int, default=5, help="measured approvals per official per level")
    parser.add_argument("--warmup", type=int, default=1, help="approvals per official before the clock starts")
    parser.add_argument("--key-delay-ms", type=int, default=20, help="between typed characters")
    parser.add_argument("--think", type=float, default=1.0, help="seconds an official looks at a new record")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one step may take (then: stuck)")
    parser.add_argument("--shots", type=Path, default=None, help="folder for screenshots")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--no-seed", action="store_true", help="reuse the database and data folder as they are")
    parser.add_argument("--profile", type=int, default=0, metavar="CYCLES",
                        help="instead of browsers: time and cProfile the server's calls for CYCLES approvals")
    args = parser.parse_args(argv)
    if not args.db:
        parser.error("--db (or WORKBENCH_BENCH_PG) is required")
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    most = max(args.officials)
    needed = sum(n * (args.records + args.warmup) for n in args.officials) + most * 2
    if not args.no_seed:
        t0 = time.perf_counter()
        seed(args.db, args.data, most, needed)
        print(f"seeded {needed}+ records for {most} officials in {time.perf_counter() - t0:.0f} s", flush=True)
    if args.profile:
        profile_services(args.db, args.data, args.profile)
        return 0
    chromium = chromium_path()
    log_path = Path("/tmp/verify_load_server.log")
    results: list[RunResult] = []
    with streamlit_server(args.db, args.data, log_path) as (url, pid):
        for n in args.officials:
            result = asyncio.run(run_level(chromium, url, pid, range(1, n + 1), args.records, args.warmup,
                                           args.key_delay_ms, args.think, int(args.timeout * 1000), args.shots))
            results.append(result)
            print(json.dumps(asdict(result)), flush=True)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.errors for r in results) else 0


def print_table(results: Sequence[RunResult]) -> None:
    print(f"\nmachine: {os.cpu_count()} CPUs; load average now {os.getloadavg()}")
    print("| N | approvals | p50 s | p95 s | max s | confirmations | records/min | server cores | postgres cores "
          "| machine cores busy | load 1m | reruns/approval | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.officials} | {r.approvals} | {r.p50_s:.2f} | {r.p95_s:.2f} | {r.max_s:.2f} | {r.dialogs} | "
              f"{r.records_per_min:.1f} | {r.server_cores:.2f} | {r.postgres_cores:.2f} | {r.machine_cores_busy:.2f} "
              f"| {r.load_avg_1m_end:.1f} | {r.reruns_per_approval:.1f} | {len(r.errors)} |")


if __name__ == "__main__":
    raise SystemExit(main())
