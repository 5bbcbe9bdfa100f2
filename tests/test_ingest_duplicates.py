"""Near-duplicate pages (the same page scanned twice) are reported to the contractor, not hidden."""

from __future__ import annotations

from pathlib import Path

import cv2
from sqlalchemy import select

from models import Page
from ocr.image.loading import iter_input_files
from workbench.books import BookIdentity
from workbench.config import Settings
from workbench.context import open_workbench
from workbench.intake.ingest import IngestOptions, ingest_files

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "books" / "khai_sinh"


def test_a_rescanned_page_is_flagged_as_duplicate_and_distinct_pages_are_not(tmp_path: Path) -> None:
    first = SAMPLES / "page_001.jpg"
    # The same page "rescanned": brighter, re-encoded at another quality, so its bytes differ.
    rescan = tmp_path / "rescan_of_page_1.jpg"
    image = cv2.convertScaleAbs(cv2.imread(str(first)), alpha=1.05, beta=6)
    cv2.imwrite(str(rescan), image, [cv2.IMWRITE_JPEG_QUALITY, 55])
    wb = open_workbench(Settings(db_url=f"sqlite:///{tmp_path / 'wb.db'}", data_dir=tmp_path / "data"))
    files = iter_input_files([first, SAMPLES / "page_002.jpg", SAMPLES / "page_003.jpg", rescan])
    report = ingest_files(
        wb.sessions, wb.settings.data_dir, files, identity=BookIdentity("Xã Đại Lãnh", "khai_sinh", 2003, 1),
        options=IngestOptions(run_ocr=False),
    )
    assert report.pages_done == 4 and report.errors == []
    with wb.sessions() as session:
        warnings = {p.original_name: p.warnings for p in session.scalars(select(Page))}
    assert "duplicate_of:page_001.jpg (trang 1)" in warnings["rescan_of_page_1.jpg"]
    for name in ("page_001.jpg", "page_002.jpg", "page_003.jpg"):
        assert not any(w.startswith("duplicate_of:") for w in warnings[name]), name
