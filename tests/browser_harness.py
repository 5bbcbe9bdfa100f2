"""What every browser test shares: the app on a free port, Debian's Chromium, the login form.

    chromium_path()     the Chromium executable ($CHROMIUM_PATH, /usr/bin/chromium, or on PATH), or None
    free_port()         a free TCP port on 127.0.0.1
    running_app(...)    context manager: `streamlit run streamlit_app.py` headless on 127.0.0.1, yields its URL
                        once /_stcore/health answers (the test fails, naming the log, if it never does)
    CHROMIUM_ARGS       the flags Chromium is launched with
    launch_chromium(p)  Chromium through Playwright `p` (skips the test when Chromium is not installed)
    new_page(browser, viewport, timeout_ms, **options)   a vi-VN page with its default timeout set
    signed_in_page(url, username, password, timeout_ms, keyboard=False, viewport=VIEWPORT, on_failure=None,
                   **options)   context manager: Chromium launched, one page (1366x768 by default) signed in
                        with `login` (or `keyboard_login`), yielded; on an error `on_failure(page)` (a screenshot)
                        runs first; the browser is closed on leaving
    wait_until_idle(page)      waits until the app is connected and no script run is going on
    settle_after(page, action) does `action` (a key press, a click) and waits for the script run it starts
                        to finish: the next step then acts on the page that run drew, not on a stale one
    open_page(page, title)     clicks the sidebar link `title` and waits for that page's run to end
    login(page, url, username, password)                 fills the login form once the page is idle, presses
                        Enter and waits for the answer (signed in, or the refusal on screen)
    keyboard_login(page, url, username, password)        the same with the keyboard only: type, Tab, type, Enter
    screenshot_folders(folder)  [folder] plus $SHOTS_DIR when set, each created
    sample_page_workbench(tmp_path, unit, users)        a fresh SQLite workbench: the unit, its users and the
                        sample birth page, segmented without OCR

The browser Playwright would download is never used: Debian's `chromium` package (`make test` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ocr.image.loading import iter_input_files
from workbench.accounts.auth import create_user
from workbench.books import BookIdentity, get_or_create_unit
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, IngestReport, ingest_files

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SAMPLE_PAGE = ROOT / "samples" / "books" / "khai_sinh" / "page_001.jpg"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}  # the officials' screens: every browser test's default
NO_CHROMIUM = "Chromium not found (install the Debian 'chromium' package; `make test` does)"


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(db_url: str, data_dir: Path, log_name: str, extra_env: dict[str, str] | None = None,
                *, startup_s: float = 60) -> Iterator[str]:
    """The Streamlit app on a free port of 127.0.0.1 over `db_url` / `data_dir`; its output goes to
    test-artifacts/`log_name`. Waits up to `startup_s` (generous: CI machines may be busy)."""
    port = free_port()
    env = dict(os.environ, WORKBENCH_DB=db_url, WORKBENCH_DATA=str(data_dir), **(extra_env or {}))
    log_path = ARTIFACTS / log_name
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
             "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + startup_s
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, through a Playwright instance; skips the test when it is missing."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(NO_CHROMIUM)
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def new_page(browser: Any, viewport: dict[str, int], timeout_ms: int, **options: Any) -> Any:
    page = browser.new_page(viewport=viewport, locale="vi-VN", **options)
    page.set_default_timeout(timeout_ms)
    return page


# The app root carries Streamlit's connection and script-run state as attributes.
_APP_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning';
}"""
# Counts the script runs that start from now on (a MutationObserver sees every attribute change, however
# short the run), so a wait can tell "the run my key press started has ended" from "no run has started yet".
_WATCH_RUNS = """() => {
  window.__workbenchRunsStarted = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  if (window.__workbenchRunWatcher) window.__workbenchRunWatcher.disconnect();
  window.__workbenchRunWatcher = new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__workbenchRunsStarted += 1;
  });
  window.__workbenchRunWatcher.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_A_RUN_STARTED = "() => window.__workbenchRunsStarted > 0"
RUN_START_WAIT_MS = 15_000  # a busy machine can take seconds to start the run an action asked for


def wait_until_idle(page: Any, timeout_ms: float | None = None) -> None:
    """Until the app is connected to its server and no script run is going on."""
    page.wait_for_function(_APP_IDLE, timeout=timeout_ms)


def settle_after(page: Any, action: Callable[[], Any], timeout_ms: float | None = None) -> None:
    """Do `action` (which must start a script run: a submit, a click on a button or a page link) and wait
    until that run, and any st.rerun() it asks for, has finished."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wait_until_idle(page, timeout_ms)
    page.evaluate(_WATCH_RUNS)
    action()
    try:
        page.wait_for_function(_A_RUN_STARTED, timeout=RUN_START_WAIT_MS)
    except PlaywrightTimeout:
        pass  # a run so short that React never drew its "running" state (seen once): idle is what counts
    wait_until_idle(page, timeout_ms)


def open_page(page: Any, title: str) -> None:
    """Click the sidebar link named `title` once the app is idle, and wait for the page's run to end (a
    click during the run after a login could be overridden by that run)."""
    settle_after(page, lambda: page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click())


def login(page: Any, url: str, username: str, password: str) -> None:
    """Open `url` and sign in through the form, once the page's first run has finished (keys typed into a
    form that a run is still drawing can be lost). Returns when the answer is on screen. The password box
    is found by its exact label: Streamlit's "Hiện mật khẩu" (show password) toggle matches "Mật khẩu" too."""
    page.goto(url)
    username_box = page.get_by_label("Tên đăng nhập")
    username_box.wait_for()
    wait_until_idle(page)
    username_box.fill(username)
    password_box = page.get_by_label("Mật khẩu", exact=True)
    password_box.fill(password)
    settle_after(page, lambda: password_box.press("Enter"))


def keyboard_login(page: Any, url: str, username: str, password: str) -> None:
    """Open `url` and sign in with the keyboard only: type, Tab, type, Enter (once the page is idle);
    returns when the answer is on screen."""
    page.goto(url)
    page.get_by_label("Tên đăng nhập").wait_for()
    wait_until_idle(page)
    page.get_by_label("Tên đăng nhập").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    settle_after(page, lambda: page.keyboard.press("Enter"))


@contextmanager
def signed_in_page(url: str, username: str, password: str, timeout_ms: int, *, keyboard: bool = False,
                   viewport: dict[str, int] | None = None, on_failure: Callable[[Any], Any] | None = None,
                   **options: Any) -> Iterator[Any]:
    """Debian's Chromium through Playwright, one page (`new_page`: `viewport`, default VIEWPORT, and `options`)
    signed in as `username` with the login form (`keyboard`: keys only, as `keyboard_login`). Yields the page
    once the answer is on screen. Whatever fails while signing in or in the block (pytest.fail too) first
    calls `on_failure(page)`, e.g. to keep a screenshot of what the screen showed when a wait ran out. The
    browser is closed on leaving; `page.context.browser` opens more pages in it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = new_page(browser, viewport or VIEWPORT, timeout_ms, **options)
            try:
                (keyboard_login if keyboard else login)(page, url, username, password)
                yield page
            except BaseException:
                if on_failure is not None:
                    on_failure(page)
                raise
        finally:
            browser.close()


def screenshot_folders(folder: Path) -> list[Path]:
    """`folder`, and $SHOTS_DIR when set; each one created."""
    folders = [folder] + ([Path(os.environ["SHOTS_DIR"])] if os.environ.get("SHOTS_DIR") else [])
    for each in folders:
        each.mkdir(parents=True, exist_ok=True)
    return folders


def sample_page_workbench(tmp_path: Path, unit: str,
                          users: Iterable[tuple[str, str, str, str]]) -> tuple[Workbench, IngestReport]:
    """A fresh SQLite database under `tmp_path` holding `unit`, the users (username, password, role, full
    name) of that unit, and SAMPLE_PAGE ingested as a 2003 birth book, segmented without OCR."""
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'e2e.db'}", data_dir=tmp_path / "data"))
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, unit)
        for username, password, role, full_name in users:
            create_user(session, username, password, role, [unit], full_name=full_name)
    report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files([SAMPLE_PAGE]),
                          identity=BookIdentity(unit, "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.records_created > 0, report.errors
    return wb, report
