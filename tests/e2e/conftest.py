"""The browser tests' fixtures and the accounts they create. A test module asks for them by name and
imports none of them; the constants (who signs in, how long to wait, where screenshots go) it imports
from here.

    e2e_workbench   a fresh database with one official (USERNAME, PASSWORD) of UNIT and one sample page
                    (segmented, no OCR: officials key it); a module that needs other users or data
                    defines its own `e2e_workbench`, which `app_url` then serves
    app_url         the app on a free port over the requesting module's `e2e_workbench`
    office          (per module) one unit, one account per role (OFFICE_ACCOUNTS, OFFICE_PASSWORD; passwords
                    already changed), one segmented sample page
    office_url      (per module) the app on a free port over `office`
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr.image.loading import iter_input_files
from tests.browser_harness import ROOT, SAMPLE_PAGE, running_app, sample_page_workbench
from workbench.accounts.auth import create_user
from workbench.books import BookIdentity, get_or_create_unit
from workbench.config import Settings
from workbench.context import Workbench, open_workbench
from workbench.db import transaction
from workbench.intake.ingest import IngestOptions, ingest_files

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
UNIT = "Xã Đại Lãnh"
USERNAME, PASSWORD = "canbo_e2e", "mat-khau-e2e"
WAIT_MS = 30_000
FIRST_FIELD_FOCUSED = "document.activeElement?.getAttribute('aria-label') === 'Số'"

# The office: screenshots of its walks go to $WORKBENCH_SHOTS (default test-artifacts/shots_no_english).
OFFICE_SHOTS = Path(os.environ.get("WORKBENCH_SHOTS", ROOT / "test-artifacts" / "shots_no_english"))
OFFICE_PASSWORD = "mat-khau-thu-nghiem"
OFFICE_ACCOUNTS = {"admin": "admin", "official": "canbo", "supervisor": "totruong", "contractor": "nhathau"}
OFFICE_WAIT_MS = 60_000


@pytest.fixture()
def e2e_workbench(tmp_path: Path) -> Workbench:
    """A fresh database with one official and one sample page (segmented, no OCR: officials key it)."""
    wb, _ = sample_page_workbench(tmp_path, UNIT, [(USERNAME, PASSWORD, "official", "Cán bộ thử nghiệm")])
    return wb


@pytest.fixture()
def app_url(e2e_workbench: Workbench) -> Iterator[str]:
    """The app on a free port over the requesting module's `e2e_workbench`."""
    with running_app(e2e_workbench.settings.db_url, e2e_workbench.settings.data_dir, "e2e-server.log") as url:
        yield url


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    """One unit, one account per role (passwords already changed), one segmented sample page."""
    tmp = tmp_path_factory.mktemp("no_english")
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp / 'wb.db'}", data_dir=tmp / "data"))
    with transaction(wb.sessions) as session:
        get_or_create_unit(session, UNIT)
        for role, username in OFFICE_ACCOUNTS.items():
            create_user(session, username, OFFICE_PASSWORD, role, [] if role == "admin" else [UNIT],
                        full_name=f"Người thử {username}")
    report = ingest_files(wb.sessions, wb.settings.data_dir, iter_input_files([SAMPLE_PAGE]),
                          identity=BookIdentity(UNIT, "khai_sinh", 2003), options=IngestOptions(run_ocr=False))
    assert report.records_created > 0, report.errors
    return wb


@pytest.fixture(scope="module")
def office_url(office: Workbench) -> Iterator[str]:
    """The app on a free port over `office`."""
    with running_app(office.settings.db_url, office.settings.data_dir, "no-english-server.log", startup_s=90) as url:
        yield url
